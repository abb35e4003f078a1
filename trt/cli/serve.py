"""`trt serve`: run the bot, its webhook/callback server and the reconciler; with
`--sandbox`, the whole product on this machine against local emulators."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Annotated

import typer

from trt.cli import console

HostOption = Annotated[str, typer.Option(help="Interface to listen on (port: PORT).")]
PortOption = Annotated[
    int | None,
    typer.Option(
        "--port",
        min=0,
        max=65535,
        help="Port to listen on (default: PORT; 8080 in --sandbox, where 0 picks a free one).",
    ),
]


def serve(
    host: HostOption = "0.0.0.0",
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Apply pending database migrations first.")
    ] = False,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Run everything locally with no tokens: an emulated Telegram with a chat "
            "page, the KIE emulator, SQLite in ./data/sandbox. Never talks to the real ones.",
        ),
    ] = False,
    port: PortOption = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="With --sandbox: open the chat page in a browser.")
    ] = False,
) -> None:
    """Run the bot: webhook or polling, KIE callbacks, reconciler, /health, /metrics."""
    if sandbox:
        _sandbox(8080 if port is None else port, open_browser)
        return
    from trt.logs import configure_logging
    from trt.settings import Purpose, load_settings

    settings = load_settings(**({"port": port} if port is not None else {}))
    settings.require(Purpose.SERVE)
    configure_logging(
        json_lines=settings.log_format.value == "json", secrets=settings.secret_values()
    )
    if migrate:
        asyncio.run(_migrate(settings.database_url.get_secret_value()))
    from trt.server.process import serve as run

    # What the imports built (aiogram, sqlalchemy: ~250k objects) lives as long as the
    # process: out of the collector's sight, start-up's full collections have little to
    # scan, and the first update is answered sooner after a cold start.
    gc.freeze()
    asyncio.run(run(settings, host=host))
    console.info("trt stopped")


def _sandbox(port: int, open_browser: bool) -> None:
    from trt.logs import configure_logging
    from trt.sandbox.run import run_sandbox
    from trt.sandbox.settings import DEFAULT_DATA_DIR

    # Warnings and errors only: the one line to read is the chat page's address.
    configure_logging(json_lines=False, secrets=[], level=logging.WARNING)

    def announce(url: str) -> None:
        console.success(f"trt sandbox (no real Telegram, no real KIE): open {url}")

    asyncio.run(run_sandbox(port, DEFAULT_DATA_DIR, open_browser, announce=announce))
    console.info("trt sandbox stopped")
    # Everything is closed; what is left is the interpreter's final collection of the
    # whole heap (registry, aiogram, SQLAlchemy), 2 s of the Ctrl-C. Frozen objects are
    # skipped by it, so the sandbox ends within a second of Ctrl-C.
    gc.freeze()


async def _migrate(url: str) -> None:
    from trt.runtime import upgrade_database

    await upgrade_database(url)
