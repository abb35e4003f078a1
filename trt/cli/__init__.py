"""The `trt` command: one Typer app per command group, errors mapped to exit codes here."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from trt import __version__
from trt.cli import (
    audit,
    broadcast,
    console,
    db,
    jobs,
    kie,
    maintenance,
    models,
    payments,
    promo,
    registry,
    serve,
    submit,
    users,
    verify,
)
from trt.errors import TrtError


class _TrtGroup(TyperGroup):
    """The one place where a TrtError becomes a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TrtError as exc:
            console.error(exc.message)
            raise typer.Exit(code=exc.exit_code) from None


app = typer.Typer(
    cls=_TrtGroup,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold the bot token and the KIE key
    rich_markup_mode=None,  # plain help: rich's markdown machinery costs 0.13 s per start
    help="trt: sell KIE.ai generations in Telegram — bot, server and operator tools.",
)
app.add_typer(audit.app, name="audit")
app.add_typer(broadcast.app, name="broadcast")
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.add_typer(kie.app, name="kie")
app.add_typer(maintenance.app, name="maintenance")
app.add_typer(models.app, name="models")
app.add_typer(payments.app, name="payments")
app.add_typer(promo.app, name="promo")
app.add_typer(registry.app, name="registry")
app.add_typer(users.app, name="users")
app.command("serve")(serve.serve)
app.command("submit")(submit.submit)
app.command("verify")(verify.verify)


def _print_version(value: bool) -> None:
    if value:
        console.line(f"trt {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_print_version),
    ] = False,
) -> None:
    """trt: sell KIE.ai generations in Telegram — bot, server and operator tools."""


def main() -> None:
    app()
