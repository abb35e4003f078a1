"""End to end over loopback: `trt serve` (in-process, on a real port), the Telegram
emulator and the KIE emulator, with a migrated SQLite file shared with the test."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.store.conftest import postgres_url
from trt.core.repos import Store
from trt.core.services import Services
from trt.domain import JobState, LedgerKind, TgUserId
from trt.runtime import open_services
from trt.sandbox.kie.emulation import Schedule
from trt.sandbox.kie.emulator import Emulator, run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.server.process import serve
from trt.settings import Settings
from trt.store import schema
from trt.store.engine import create_database
from trt.store.tables import metadata

Emulators = tuple[TelegramEmulator, Emulator]
ADMIN = 900
USER = TgUserId(1001)
SECRETS: dict[str, Any] = {
    "webhook_secret_path": "hook-path-SECRET-1",
    "webhook_secret_token": "hook-token-SECRET-2",
    "kie_callback_token": "callback-SECRET-3",
    "kie_api_key": "kie-key-SECRET-4",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    settings: Settings
    tg: TelegramEmulator
    kie: Emulator
    services: Services  # the test's own view: same database, same KIE emulator
    base_url: str


async def migrate(url: str) -> None:
    db = create_database(url)
    await schema.upgrade(db)
    await db.dispose()


async def fresh_database(url: str) -> None:
    """Bring the database at `url` to the current schema, empty (Postgres is shared by the
    run, so its tables go first; a SQLite file is new per test)."""
    db = create_database(url)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await schema.upgrade(db)
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database on each backend, for servers (in-process or children)
    and the test to share: a SQLite file (WAL, so two processes can share it too), or the
    test Postgres, which runs whenever TRT_TEST_POSTGRES_URL is set and may not skip in CI."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}"
    else:
        url = postgres_url()
    await fresh_database(url)
    return url


def child_settings(url: str, tg: TelegramEmulator, kie: Emulator, **extra: Any) -> dict[str, Any]:
    """Settings for a `trt serve` child process (see `processes.ServerProcess`) on a free port."""
    port = free_port()
    return {
        "telegram_bot_token": tg.token, "telegram_api_base_url": tg.base_url, "admin_id": ADMIN,
        "bot_mode": "webhook", "webhook_base_url": f"http://127.0.0.1:{port}",
        "kie_mode": "emulator", "kie_base_url": kie.base_url, "kie_upload_base_url": kie.base_url,
        "database_url": url, "port": port, "kie_late_callback_seconds": 1,
        "reconcile_interval_seconds": 0.2, **SECRETS, **extra,
    }  # fmt: skip


@pytest.fixture
async def emulators() -> AsyncIterator[Emulators]:
    """Telegram without flood control (the bot paces itself) and a quick KIE."""
    async with (
        run_telegram_emulator(flood_limits=False) as tg,
        run_emulator(rate_limit=None, schedule=Schedule(0.05, 0.1, 0.2)) as kie,
    ):
        yield tg, kie


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[None]:
    """`trt serve` in this process, ready, until the block ends (then stopped gracefully)."""
    stop, ready = asyncio.Event(), asyncio.Event()
    server = asyncio.create_task(serve(settings, host="127.0.0.1", stop=stop, ready=ready))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait({server, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        waiting.cancel()
        server.result()  # start-up failed: raise its error here
    try:
        yield
    finally:
        stop.set()
        await server


def make_settings(
    tmp_path: Path, tg: TelegramEmulator, kie: Emulator, port: int, **extra: Any
) -> Settings:
    return Settings(
        **extra,
        _env_file=None,
        telegram_bot_token=tg.token, telegram_api_base_url=tg.base_url,
        admin_id=ADMIN, bot_mode="webhook", webhook_base_url=f"http://127.0.0.1:{port}",
        kie_mode="emulator", kie_base_url=kie.base_url, kie_upload_base_url=kie.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}", port=port, **SECRETS,
    )  # fmt: skip


@pytest.fixture
def hmac_key() -> str | None:
    """Override in a test class to run the stack with signed KIE callbacks."""
    return None


@pytest.fixture
def extra_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Server settings a test changes, given by indirect parametrisation."""
    extra: dict[str, Any] = getattr(request, "param", {})
    return extra


@pytest.fixture
async def stack(
    tmp_path: Path, hmac_key: str | None, extra_settings: dict[str, Any]
) -> AsyncIterator[Stack]:
    port = free_port()
    async with (
        run_telegram_emulator() as tg,
        run_emulator(rate_limit=None, schedule=Schedule(0.05, 0.1, 0.2), hmac_key=hmac_key) as kie,
    ):
        tg.user(USER, language_code="en")
        settings = make_settings(
            tmp_path, tg, kie, port, kie_webhook_hmac_key=hmac_key, **extra_settings
        )
        await migrate(settings.database_url.get_secret_value())
        stop, ready = asyncio.Event(), asyncio.Event()
        server = asyncio.create_task(serve(settings, host="127.0.0.1", stop=stop, ready=ready))
        await asyncio.wait({server, asyncio.create_task(ready.wait())},
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if server.done():
            server.result()  # start-up failed: raise its error here
        async with open_services(settings) as services:
            await services.store.users.ensure(USER, language="en")
            await services.store.ledger.credit(
                USER, 100, kind=LedgerKind.TOPUP, key="topup:seed", reason="test"
            )
            yield Stack(settings, tg, kie, services, f"http://127.0.0.1:{port}")
        stop.set()
        await server


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until `check()` is true: for effects in another task or process that signal
    nothing the test can await. Re-checks every 20 ms; fails after `within` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - the effect has no event to await
            await asyncio.sleep(0.02)


async def job_state(stack: Stack, job_id: str, state: JobState, *, within: float = 10.0) -> None:
    await job_reaches(stack.services.store, job_id, state, within=within)


async def job_reaches(store: Store, job_id: str, state: JobState, *, within: float) -> None:
    async def reached() -> bool:
        return (await store.jobs.get(job_id)).state is state

    await eventually(reached, within=within)


async def server_metric(stack: Stack, series: str) -> float:
    """One sample from the running server's /metrics, e.g. 'trt_updates_total{outcome="new"}'."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(stack.base_url + "/metrics") as r:
        text = await r.text()
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def server_processes() -> Iterator[list[Any]]:
    """Child `trt serve` processes a test starts; any still running at the end is killed."""
    started: list[Any] = []
    yield started
    for process in started:
        process.ensure_stopped()
