"""`trt serve --sandbox`: the Telegram emulator (with the chat page), the KIE emulator and
the real `trt serve` wired to both, on this machine only."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import webbrowser
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from trt.domain import LedgerKind, TgUserId
from trt.errors import UsageError
from trt.sandbox.page import add_page_routes
from trt.sandbox.settings import (
    DEFAULT_DATA_DIR,
    SANDBOX_BOT,
    TEST_STARS,
    TEST_USERS,
    sandbox_settings,
)
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import Settings

HOST = "127.0.0.1"  # the sandbox is for this machine only


@dataclass(frozen=True)
class Sandbox:
    url: str  # the chat page
    telegram: TelegramEmulator
    settings: Settings  # what `trt serve` runs with


@contextlib.asynccontextmanager
async def open_sandbox(
    port: int = 8080, data_dir: Path = DEFAULT_DATA_DIR, *, flood_limits: bool = True
) -> AsyncIterator[Sandbox]:
    """Everything started and the bot's webhook set; stopped when the block exits.

    `flood_limits=False` lifts Telegram's message rate limits (for scripts that drive the
    bot faster than a person can click).

    Raises: UsageError when `port` is taken.
    """
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        try:
            tg = await stack.enter_async_context(
                run_telegram_emulator(
                    host=HOST,
                    port=port,
                    extend=add_page_routes,
                    options=SANDBOX_BOT,
                    flood_limits=flood_limits,
                )
            )
        except OSError as e:
            raise UsageError("--port", f"cannot listen on {HOST}:{port}: {e.strerror}") from None
        for user in TEST_USERS:
            tg.user(user.id, first_name=user.first_name, language_code=user.language_code)
        settings = sandbox_settings(
            telegram_url=tg.base_url, serve_port=_free_port(), data_dir=data_dir
        )
        await _prepare(settings.database_url.get_secret_value())
        await stack.enter_async_context(_serving(settings))
        yield Sandbox(f"{tg.base_url}/", tg, settings)


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[None]:
    from trt.server.process import serve  # aiogram: seconds to import, so only once it is needed

    stop, ready = asyncio.Event(), asyncio.Event()
    server = asyncio.create_task(serve(settings, host=HOST, stop=stop, ready=ready))
    started = asyncio.create_task(ready.wait())
    await asyncio.wait({server, started}, return_when=asyncio.FIRST_COMPLETED)
    started.cancel()
    if server.done():
        server.result()  # start-up failed: raise its error here
    try:
        yield
    finally:
        stop.set()
        await server


async def _prepare(url: str) -> None:
    """Migrate the sandbox database and give each test user test Stars, once ever."""
    from trt.runtime import open_store, upgrade_database

    await upgrade_database(url)
    async with open_store(url) as store:
        for user in TEST_USERS:
            uid = TgUserId(user.id)
            await store.users.ensure(uid, first_name=user.first_name, language=user.language)
            await store.ledger.credit(
                uid, TEST_STARS, kind=LedgerKind.GRANT, key=f"grant:sandbox:{user.id}",
                reason="sandbox test Stars",
            )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def run_sandbox(
    port: int = 8080,
    data_dir: Path = DEFAULT_DATA_DIR,
    open_browser: bool = False,
    *,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run the sandbox until SIGINT/SIGTERM (or `stop`); `announce` gets the page's URL."""
    stop = stop or _stop_on_signals()
    async with open_sandbox(port, data_dir) as sandbox:
        if announce is not None:
            announce(sandbox.url)
        opening = asyncio.create_task(_open(sandbox.url)) if open_browser else None
        if ready is not None:
            ready.set()
        await stop.wait()
        if opening is not None:
            opening.cancel()


async def _open(url: str) -> None:
    # webbrowser.open may wait for a terminal browser: keep it off the event loop.
    await asyncio.to_thread(webbrowser.open, url)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
