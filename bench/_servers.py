"""Shared by the bot benchmarks: the fake Telegram (the emulator, in the benchmark's own
process), `trt serve` and the aiogram baseline bots each in a child process, and updates
built from the emulator's own users and messages, POSTed straight to a webhook.

The baseline bots live in `bench/_echo_bot.py`: the bare one, and the recording one that
stores each update_id (same database, same driver as trt) before it answers Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import ChatMessage
from trt.sandbox.telegram.text import command_entities
from trt.store import tables
from trt.store.engine import create_database

HOST = "127.0.0.1"
WEBHOOK_PATH = "bench-hook"
WEBHOOK_TOKEN = "bench-secret-token"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TRT = [sys.executable, "-c", "from trt.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    webhook_url: str
    pid: int


def serve_env(tg: TelegramEmulator, folder: Path, port: int, **extra: str) -> dict[str, str]:
    """`trt serve` in webhook mode against the emulator, KIE emulated, SQLite in `folder`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "KIE_"))}
    return {
        **base, "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url,
        "BOT_MODE": "webhook", "WEBHOOK_BASE_URL": f"http://{HOST}:{port}",
        "WEBHOOK_SECRET_PATH": WEBHOOK_PATH, "WEBHOOK_SECRET_TOKEN": WEBHOOK_TOKEN,
        "KIE_MODE": "emulator", "KIE_CALLBACK_TOKEN": "bench-callback-token",
        "DATABASE_URL": sqlite_url(folder), "ADMIN_ID": "1",
        "LOG_FORMAT": "text", **extra,
    }  # fmt: skip


def sqlite_url(folder: Path) -> str:
    """trt's database in `folder` when no DATABASE_URL is given."""
    return f"sqlite+aiosqlite:///{folder / 'trt.db'}"


async def migrate(env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *TRT, "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError("trt db upgrade failed")


@contextlib.asynccontextmanager
async def trt_serve(
    tg: TelegramEmulator, folder: Path, *, migrated: bool = False, **extra: str
) -> AsyncIterator[Target]:
    """`trt serve` in a child process, up with its webhook set; SIGINT when the block ends."""
    port = free_port()
    env = serve_env(tg, folder, port, **extra)
    if not migrated:
        await migrate(env)
    command = [*TRT, "serve", "--host", HOST, "--port", str(port)]
    async with _child(command, env, folder / "serve.log") as pid:
        base = f"http://{HOST}:{port}"
        await _until_up(f"{base}/health")
        await tg.wait_for_call("setWebhook", timeout=60)
        yield Target("trt serve", base, f"{base}/webhook/{WEBHOOK_PATH}", pid)


@contextlib.asynccontextmanager
async def echo_bot(tg: TelegramEmulator, folder: Path) -> AsyncIterator[Target]:
    """The bare aiogram baseline (`bench/_echo_bot.py`) in a child process."""
    async with _baseline(tg, folder, "bare aiogram", []) as target:
        yield target


@contextlib.asynccontextmanager
async def recording_bot(
    tg: TelegramEmulator, folder: Path, database_url: str | None = None
) -> AsyncIterator[Target]:
    """The recording aiogram baseline in a child process: its update ids go to its own
    table in trt's Postgres database (`database_url`), or to an SQLite file in `folder`
    (not trt's file: two processes would queue for one write lock)."""
    store = str(folder / "seen.db")
    if database_url is not None and not database_url.startswith("sqlite"):
        store = asyncpg_dsn(database_url)
    async with _baseline(tg, folder, "recording", [store]) as target:
        yield target


@contextlib.asynccontextmanager
async def _baseline(
    tg: TelegramEmulator, folder: Path, name: str, args: list[str]
) -> AsyncIterator[Target]:
    port = free_port()
    command = [sys.executable, "-m", "bench._echo_bot", str(port), tg.base_url, *args]
    env = {**os.environ, "BOT_TOKEN": tg.token}
    async with _child(command, env, folder / "bot.log") as pid:
        base = f"http://{HOST}:{port}"
        await _until_up(f"{base}/health")
        yield Target(name, base, f"{base}/webhook", pid)


def asyncpg_dsn(database_url: str) -> str:
    """A Postgres URL as asyncpg itself takes it (no SQLAlchemy driver suffix)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_database(server_url: str | None) -> AsyncIterator[str | None]:
    """None stays None (trt's default: a fresh SQLite file in the run's folder). For a
    Postgres URL: a new, empty database on that server, dropped when the block ends, so
    every run starts alike and leaves nothing behind."""
    if server_url is None or server_url.startswith("sqlite"):
        yield server_url
        return
    url = make_url(asyncpg_dsn(server_url))
    name = f"trt_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(url.set(database="postgres").render_as_string(False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def _child(command: list[str], env: dict[str, str], log: Path) -> AsyncIterator[int]:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=log.parent, stdout=out, stderr=out
        )
        try:
            yield process.pid
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _until_up(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as answer:
                    if answer.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.1)


async def seed_jobs(database_url: str, task_ids: Sequence[str], *, first_user: int) -> None:
    """Submitted jobs (3 per user, each holding 3 ⭐), as the pipeline leaves them once KIE
    accepted the task with a callback URL: the next poll two minutes away."""
    now = datetime.now(UTC)
    jobs, holds, users = [], [], []
    for n, task_id in enumerate(task_ids):
        job_id, user = f"{n:026d}", first_user + n // 3
        jobs.append({
            "id": job_id, "user_id": user, "model_id": "google/nano-banana",
            "api_family": "market", "params": {"prompt": "a cat"}, "state": "submitted",
            "price_stars": 3, "kie_credits": 10.0, "kie_task_id": task_id,
            "deadline_at": now + timedelta(hours=1), "next_check_at": now + timedelta(minutes=2),
            "delivery_attempts": 0, "created_at": now, "updated_at": now,
        })  # fmt: skip
        holds.append({"user_id": user, "kind": "hold", "amount": 3, "balance_delta": -3,
                      "held_delta": 3, "job_id": job_id, "key": f"hold:{job_id}",
                      "created_at": now})  # fmt: skip
    for user in range(first_user, first_user + (len(task_ids) + 2) // 3):
        held = 3 * sum(1 for j in jobs[3 * (user - first_user) : 3 * (user - first_user) + 3])
        users.append({"id": user, "balance": 0, "held": held, "is_banned": False,
                      "blocked_bot": False, "created_at": now, "updated_at": now})  # fmt: skip
    db = create_database(database_url)
    async with db.transaction() as conn:
        await conn.execute(insert(tables.users), users)
        await conn.execute(insert(tables.ledger_entries), holds)
        await conn.execute(insert(tables.jobs), jobs)
    await db.dispose()


class Updates:
    """Updates as Telegram would send them, from the emulator's users and chats."""

    def __init__(self, tg: TelegramEmulator) -> None:
        self.tg = tg
        self.next_id = 1

    def message(self, user_id: int, text: str) -> dict[str, Any]:
        user = self.tg.user(user_id, first_name="Bench", language_code="en")
        history = self.tg.chat(user_id)
        message = self.tg.add_message(
            history, sender=user, text=text, entities=command_entities(text)
        )
        return self._update("message", message.to_json())

    def click(self, user_id: int, message: ChatMessage, label: str) -> dict[str, Any]:
        """A press on the button labelled `label` (or starting with it)."""
        button = next(b for b in message.buttons() if b.text.startswith(label))
        query_id = str(secrets.randbits(63))
        query: dict[str, Any] = {
            "id": query_id, "from": self.tg.user(user_id).to_json(),
            "message": message.to_json(), "chat_instance": str(user_id),
            "data": button.callback_data,
        }  # fmt: skip
        self.tg.callback_queries[query_id] = query
        return self._update("callback_query", query)

    def _update(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_id, kind: body}
        self.next_id += 1
        return update


def update_key(update: dict[str, Any]) -> str:
    """What the bot's first answer to `update` names: its chat, or its callback query."""
    if "callback_query" in update:
        return f"q{update['callback_query']['id']}"
    return f"c{update['message']['chat']['id']}"


def first_calls(tg: TelegramEmulator, start: int = 0) -> dict[str, float]:
    """For each chat / callback query, the emulator-clock time of the first call naming it."""
    seen: dict[str, float] = {}
    for call in tg.calls[start:]:
        query = call.params.get("callback_query_id")
        key = f"q{query}" if query is not None else f"c{call.params.get('chat_id')}"
        seen.setdefault(key, call.at)
    return seen


class Poster:
    """POSTs updates to a webhook over keep-alive connections; returns round trips."""

    def __init__(self, url: str, connections: int = 40) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))

    async def post(self, update: dict[str, Any]) -> float:
        started = time.perf_counter()
        async with self.http.post(
            self.url, json=update, headers={SECRET_HEADER: WEBHOOK_TOKEN}
        ) as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"webhook answered {r.status}")
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.http.close()
