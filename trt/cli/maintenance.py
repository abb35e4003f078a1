"""`trt maintenance`: pause sales — the bot answers politely and starts no job or payment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, with_runtime
from trt.cli.render import plain, when

if TYPE_CHECKING:
    from trt.records import Maintenance
    from trt.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Maintenance mode: on, off, status.")


@app.command()
def on(
    message: Annotated[
        str | None,
        typer.Option(help="What users are told (default: a polite ru/en text)."),
    ] = None,
) -> None:
    """Stop new jobs and payments on every instance; jobs in flight finish and deliver."""
    state = _switch(True, message)
    console.success(f"maintenance is on{': ' + state.message if state.message else ''}")


@app.command()
def off() -> None:
    """Sell again."""
    _switch(False, None)
    console.success("maintenance is off")


@app.command()
def status(as_json: JsonFlag = False) -> None:
    """Whether maintenance mode is on, since when, by whom, and its message."""
    state = with_runtime(_read)
    if as_json:
        console.json_out(plain(state))
        return
    console.fields([("maintenance", "on" if state.on else "off"), ("message", state.message),
                    ("since (UTC)", when(state.since)), ("by", state.by)])  # fmt: skip


async def _read(rt: Runtime) -> Maintenance:
    return (await rt.store.controls.state()).maintenance


def _switch(on: bool, message: str | None) -> Maintenance:
    from trt.catalog.registry import Registry
    from trt.core.audit import cli_actor
    from trt.core.controls import Controls

    async def run(rt: Runtime) -> Maintenance:
        controls = Controls(rt.store.controls, Registry(()))  # models are not touched
        return await controls.set_maintenance(on, message=message, actor=cli_actor())

    return with_runtime(run)
