"""`trt registry …`: build, validate and browse the model registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trt.catalog.kinds import Category
from trt.catalog.paths import ENV_VAR, resolve_registry_dir
from trt.cli import console
from trt.errors import RegistryInvalid

app = typer.Typer(no_args_is_help=True, help="Build, check and browse the model registry.")

RegistryDir = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        envvar=ENV_VAR,
        file_okay=False,
        help="Registry folder (sources in models/, built registry.json). Default: the repo's.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command()
def build(registry: RegistryDir = None) -> None:
    """Write registry.json from the sources; nothing is written if a source is invalid."""
    from trt.catalog.build import build_registry

    result = build_registry(resolve_registry_dir(registry))
    state = "built" if result.changed else "already up to date:"
    hidden = result.models - result.visible
    console.success(
        f"{state} {result.path} — {result.models} models "
        f"({result.visible} visible, {hidden} hidden), {result.checksum}"
    )


@app.command()
def validate(registry: RegistryDir = None) -> None:
    """Check every source and the built file; list every problem as `file: field: message`."""

    from trt.catalog.build import validate_registry

    folder = resolve_registry_dir(registry)
    problems = validate_registry(folder)
    if problems:
        raise RegistryInvalid(problems)
    console.success(f"{folder} is valid and registry.json is current")


@app.command("list")
def list_models(
    category: Annotated[
        Category | None, typer.Option(help="Only models of this category.")
    ] = None,
    include_hidden: Annotated[
        bool, typer.Option("--all", help="Include hidden models and why they are hidden.")
    ] = False,
    as_json: JsonFlag = False,
    registry: RegistryDir = None,
) -> None:
    """List models with their category and lowest example price."""
    from trt.catalog.registry import Registry
    from trt.cli.registry_view import pricing, summary

    specs = [
        s
        for s in Registry.load(resolve_registry_dir(registry))
        if (include_hidden or s.visible) and category in (None, s.category)
    ]
    prices = pricing()
    rows = [summary(s, prices) for s in specs]
    if as_json:
        console.json_out({"models": rows})
        return
    columns = ["id", "category", "title", "from credits", "from ⭐"]
    table = [
        [r["id"], r["category"], r["title"]["en"], r["min_credits"], r["min_stars"]] for r in rows
    ]
    if include_hidden:  # what --all promises: which models are hidden, and why
        columns.append("hidden because")
        for row, r in zip(table, rows, strict=True):
            row.append(None if r["visible"] else r["hidden_reason"] or "hidden")
    console.table(columns, table, title=f"Models: {len(rows)}")


@app.command()
def show(
    model: Annotated[str, typer.Argument(help="Model id, e.g. flux-2/pro-text-to-image.")],
    as_json: JsonFlag = False,
    registry: RegistryDir = None,
) -> None:
    """Show a model: what it is, its inputs with defaults and limits, and example prices."""
    from trt.catalog.examples import price_points
    from trt.catalog.registry import Registry
    from trt.cli.registry_view import about, conditions, input_row, point_json, pricing

    spec = Registry.load(resolve_registry_dir(registry)).get(model)
    prices = pricing()
    points = price_points(spec) if spec.pricing is not None else []  # hidden: no price yet
    if as_json:
        examples = [point_json(p, prices) for p in points]
        console.json_out({**spec.model_dump(mode="json"), "example_prices": examples})
        return
    console.fields(about(spec))
    console.table(
        ["input", "type", "required", "default", "allowed"],
        [input_row(i) for i in spec.inputs],
        title="Inputs",
    )
    if points:
        rows = [[conditions(p), str(p.credits), prices.stars(p.credits)] for p in points]
        console.table(["parameters", "credits", "⭐"], rows, title="Example prices")
