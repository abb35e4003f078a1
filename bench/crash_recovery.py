"""Crash recovery: how fast `trt serve` re-processes the updates a `kill -9` stranded in its
inbox, against its own live rate in the same run.

1. Live: `trt serve` (child process, KIE emulated, the Telegram emulator with flood limits
   off) is sent N `/start` updates from N new users over 40 connections; the live rate is
   N / (first POST → the last update answered), "answered" meaning the bot's first call
   naming the update's chat.
2. Crash: N more `/start` updates from new users are POSTed to the same server, which is
   SIGKILLed as soon as the last POST got its 200 (every update stored, few processed).
   The stranded updates are the inbox rows still unprocessed, read from the database.
3. Restart: `trt serve` on the same database; the recovery rate is stranded /
   (restart → the last stranded update answered); also shown from the moment the
   restarted server answered /health, and the time to the first answer.

Both phases run under trt's own pacing (28 messages/s: Telegram allows a bot about 30),
so the live rate is that pacing's, and recovery meets the target only by keeping it full.
Target: recovery ≥ 0.8× the live rate.

    python -m bench.crash_recovery [DATABASE_URL]

Without an argument trt gets a fresh SQLite file; with a Postgres URL, the run creates an
empty database on that server and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench._servers import Poster, Updates, scratch_database, sqlite_url, trt_serve, update_key
from bench._timing import verdict
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.store.engine import create_database
from trt.store.tables import telegram_updates

N = 2_000
CONNECTIONS = 40  # Telegram's default max_connections for a webhook
WARM_UP = 20
WITHIN = 600.0  # seconds: a phase still unanswered by then is reported, not waited for


class Answers:
    """The emulator-clock time of the first call naming each awaited chat, from the calls
    made after this was created (scanned incrementally: thousands of calls)."""

    def __init__(self, tg: TelegramEmulator, keys: set[str]) -> None:
        self.tg = tg
        self.mark = len(tg.calls)
        self.pending = set(keys)
        self.at: dict[str, float] = {}

    def scan(self) -> None:
        calls = self.tg.calls
        for call in calls[self.mark :]:
            query = call.params.get("callback_query_id")
            key = f"q{query}" if query is not None else f"c{call.params.get('chat_id')}"
            if key in self.pending:
                self.pending.discard(key)
                self.at[key] = call.at
        self.mark = len(calls)

    async def wait(self, within: float = WITHIN) -> None:
        deadline = time.monotonic() + within
        while True:
            self.scan()
            if not self.pending or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)


async def post_all(url: str, batch: list[dict[str, Any]]) -> None:
    poster = Poster(url, CONNECTIONS)
    queue = iter(batch)

    async def worker() -> None:
        for update in queue:
            await poster.post(update)

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    await poster.close()


def starts(updates: Updates, first_user: int, count: int) -> list[dict[str, Any]]:
    return [updates.message(first_user + i, "/start") for i in range(count)]


@dataclass
class Figures:
    live_rate: float
    stranded: int
    answered: int
    from_restart: float  # seconds: restart → last stranded update answered
    from_up: float  # seconds: restarted server answering /health → last answered
    first_from_restart: float
    first_from_up: float
    up_after: float  # seconds from restart to /health answering


async def unprocessed_chats(database_url: str) -> set[str]:
    """The chats of the inbox's unprocessed updates (one user, one chat, one update)."""
    db = create_database(database_url)
    query = select(telegram_updates.c.user_id).where(telegram_updates.c.processed_at.is_(None))
    async with db.transaction(readonly=True) as conn:
        users = (await conn.execute(query)).scalars().all()
    await db.dispose()
    return {f"c{user}" for user in users}


def store_url(url: str | None, folder: Path) -> tuple[dict[str, Any], str]:
    """trt's DATABASE_URL setting (none: the default SQLite file) and the same database as
    the benchmark's own engine takes it."""
    if url is None:
        return {}, sqlite_url(folder)
    engine_url = make_url(url).set(drivername="postgresql+asyncpg")
    return {"DATABASE_URL": url}, engine_url.render_as_string(hide_password=False)


async def measure(url: str | None) -> Figures:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        extra, own_url = store_url(url, folder)
        async with run_telegram_emulator(flood_limits=False) as tg:
            updates = Updates(tg)
            async with trt_serve(tg, folder, **extra) as target:
                warm = starts(updates, 10, WARM_UP)
                answers = Answers(tg, {update_key(u) for u in warm})
                await post_all(target.webhook_url, warm)
                await answers.wait()
                # 1. live
                live = starts(updates, 1_000_000, N)
                answers = Answers(tg, {update_key(u) for u in live})
                began = time.monotonic()
                await post_all(target.webhook_url, live)
                await answers.wait()
                if answers.pending:
                    raise RuntimeError(f"live: {len(answers.pending)} of {N} unanswered")
                live_rate = N / (max(answers.at.values()) - began)
                # 2. crash, once the whole backlog is stored
                await post_all(target.webhook_url, starts(updates, 2_000_000, N))
                os.kill(target.pid, signal.SIGKILL)
            stranded = await unprocessed_chats(own_url)
            # 3. restart
            answers = Answers(tg, stranded)
            restarted = time.monotonic()
            async with trt_serve(tg, folder, migrated=True, **extra):
                up = time.monotonic()
                await answers.wait()
        done = answers.at.values()
        last, first = max(done, default=float("nan")), min(done, default=float("nan"))
        return Figures(
            live_rate, len(stranded), len(answers.at), last - restarted, last - up,
            first - restarted, first - up, up - restarted,
        )  # fmt: skip


async def main() -> None:
    async with scratch_database(sys.argv[1] if len(sys.argv) > 1 else None) as url:
        f = await measure(url)
    store = "Postgres" if url and url.startswith("postgres") else "SQLite"
    rate = f.answered / f.from_restart
    ratio = rate / f.live_rate
    print(f"{store}: {N} /start updates from new users over {CONNECTIONS} connections")
    print(f"live:     {f.live_rate:6.1f} answered/s (first POST → last answer)")
    print(f"recovery: {f.answered} of {f.stranded} stranded answered; "
          f"{rate:6.1f}/s from restart, {f.answered / f.from_up:6.1f}/s from /health up "
          f"({f.up_after:.1f} s after restart)")  # fmt: skip
    print(f"first answered {f.first_from_restart:.1f} s after restart "
          f"({f.first_from_up:.1f} s after /health up)")  # fmt: skip
    ok = ratio >= 0.8 and f.answered == f.stranded
    print(f"recovery / live {ratio:.2f}x (target ≥ 0.8x) {verdict(ok)}")


if __name__ == "__main__":
    asyncio.run(main())
