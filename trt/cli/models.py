"""`trt models`: what is sold — disable and enable models, set a model's own markup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, with_runtime
from trt.cli.render import plain

if TYPE_CHECKING:
    from trt.catalog.registry import Registry
    from trt.core.controls import Controls
    from trt.core.model_board import ModelLine
    from trt.records import ModelOverride
    from trt.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Models on sale: list, disable, enable, markup.")

ModelArg = Annotated[str, typer.Argument(help="Model id, e.g. flux-2/pro-text-to-image.")]
DEFAULT_DAYS = 30


@app.command("list")
def list_models(
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="Sales over the last this many days.")
    ] = DEFAULT_DAYS,
    include_hidden: Annotated[
        bool, typer.Option("--all", help="Include models the registry hides (no price).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List models: state, markup, prices now, and sales (jobs, Stars) over --days."""
    from trt.catalog.pricing import Pricing
    from trt.core.model_board import model_board

    since = datetime.now(UTC) - timedelta(days=days)

    async def board(rt: Runtime) -> list[ModelLine]:
        pricing = Pricing.from_settings(rt.settings)
        return await model_board(
            rt.store, _registry(), pricing, since=since, hidden=include_hidden
        )

    lines = with_runtime(board)
    if as_json:
        console.json_out({"since": since.isoformat(), "days": days,
                          "models": [plain(line) for line in lines]})  # fmt: skip
        return
    console.table(
        [
            "id",
            "title",
            "state",
            "markup",
            "default ⭐",
            "from ⭐",
            "jobs",
            "⭐ sold",
            "real ÷ quote",
        ],  # fmt: skip
        [_row(line) for line in lines],
        title=f"Models: {len(lines)}; sales over the last {days} days",
    )


@app.command()
def disable(
    model: ModelArg,
    reason: Annotated[str, typer.Option(help="Why; kept in the audit log and shown to users.")],
) -> None:
    """Take a model off sale at once: it leaves the catalogue, running jobs still deliver."""
    changed = _change(lambda controls, actor: controls.disable(model, reason=reason, actor=actor))
    console.success(f"{changed.model_id} is disabled: {changed.reason}")


@app.command()
def enable(
    model: ModelArg,
    reason: Annotated[str | None, typer.Option(help="Why; kept in the audit log.")] = None,
) -> None:
    """Put a disabled model back on sale."""
    changed = _change(lambda controls, actor: controls.enable(model, reason=reason, actor=actor))
    console.success(f"{changed.model_id} is on sale")


@app.command()
def markup(
    model: ModelArg,
    value: Annotated[
        str | None, typer.Argument(help="The model's own markup, e.g. 1.8.", show_default=False)
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Back to the global PRICE_MARKUP.")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why; kept in the audit log.")] = None,
) -> None:
    """Set a model's own markup over KIE's cost, in place of the global PRICE_MARKUP."""
    from trt.core.controls import MARKUP_RANGE, parse_markup
    from trt.errors import UsageError

    if reset == (value is not None):
        raise UsageError("MARKUP", f"give either a markup ({MARKUP_RANGE}) or --reset")
    factor = parse_markup(value) if value is not None else None
    changed = _change(
        lambda controls, actor: controls.set_markup(model, factor, actor=actor, reason=reason)
    )
    shown = changed.markup or "the global PRICE_MARKUP"
    console.success(f"{changed.model_id} sells at markup {shown}")


def _change(call: Callable[[Controls, str], Awaitable[ModelOverride]]) -> ModelOverride:
    from trt.core.audit import cli_actor
    from trt.core.controls import Controls

    registry = _registry()

    async def run(rt: Runtime) -> ModelOverride:
        controls = Controls(rt.store.controls, registry)
        await controls.refresh()
        return await call(controls, cli_actor())

    return with_runtime(run)


def _registry() -> Registry:
    from trt.catalog.paths import resolve_registry_dir
    from trt.catalog.registry import Registry

    return Registry.load(resolve_registry_dir())


def _row(line: ModelLine) -> list[object]:
    state = line.state if line.reason is None else f"{line.state}: {line.reason}"
    own = f"{line.markup} (own)" if line.own_markup else line.markup
    return [line.id, line.title, state, own, line.default_stars, line.from_stars,
            line.jobs, line.stars_sold, _real_cost(line)]  # fmt: skip


def _real_cost(line: ModelLine) -> str:
    """KIE's real credits against the quote for the measured jobs: `1.00×` is as quoted."""
    if line.real_credits is None:
        return "-"
    quoted = line.measured_quote
    ratio = f"{line.real_credits / quoted:.2f}×" if quoted else "-"
    return f"{ratio} ({line.measured} of {line.jobs})"
