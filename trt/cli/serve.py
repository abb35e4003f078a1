"""`trt serve`: run the bot, its webhook/callback server and the reconciler."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from trt.cli import console

HostOption = Annotated[str, typer.Option(help="Interface to listen on (port: PORT).")]


def serve(
    host: HostOption = "0.0.0.0",
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Apply pending database migrations first.")
    ] = False,
) -> None:
    """Run the bot: webhook or polling, KIE callbacks, reconciler, /health, /metrics."""
    from trt.logs import configure_logging
    from trt.settings import Purpose, load_settings

    settings = load_settings()
    settings.require(Purpose.SERVE)
    configure_logging(
        json_lines=settings.log_format.value == "json", secrets=settings.secret_values()
    )
    if migrate:
        asyncio.run(_migrate(settings.database_url))
    from trt.serve import serve as run

    asyncio.run(run(settings, host=host))
    console.info("trt stopped")


async def _migrate(url: str) -> None:
    from trt.store import schema
    from trt.store.engine import create_database

    db = create_database(url)
    try:
        await schema.upgrade(db)
    finally:
        await db.dispose()
