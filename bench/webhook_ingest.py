"""Webhook ingest: a stream of `/start` updates from new users POSTed to `trt serve` (child
process, KIE emulated, the Telegram emulator with flood limits off as the fake Telegram),
then, in the same run and against the same fake, to two aiogram webhook bots replying with
message.answer:

- the recording bot, the fair baseline: it inserts and commits each update_id (same kind
  of database, same driver as trt: aiosqlite on an SQLite file in WAL mode, or asyncpg on
  trt's Postgres database) before Telegram gets its 200;
- the bare bot (`SimpleRequestHandler`, stores nothing), for scale.

Targets: trt's updates/s ≥ 0.8× the recording bot's, and its POST p99 ≤ 1.5× the
recording bot's. Also shown: update → first outgoing API call (seen by the emulator) for a
stream at 20/s, under trt's own pacing of 28 messages/s (a faster stream queues in that
pacing by design: Telegram allows a bot about 30 messages/s).

    python -m bench.webhook_ingest [DATABASE_URL]

Without an argument trt and the recording bot each get a fresh SQLite file; with a Postgres
URL, the run creates an empty database on that server for both and drops it at the end.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from bench._servers import (
    Poster,
    Target,
    Updates,
    echo_bot,
    first_calls,
    percentile,
    recording_bot,
    scratch_database,
    trt_serve,
    update_key,
)
from bench._timing import verdict
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator

STREAM = 1_000
WARM_UP = 50
CONNECTIONS = 40  # Telegram's default max_connections for a webhook
PACED = 100
PACED_RATE = 20.0
Launcher = Callable[[TelegramEmulator, Path], AbstractAsyncContextManager[Target]]


async def stream(
    tg: TelegramEmulator, target: Target, first_user: int
) -> tuple[float, list[float]]:
    """Updates/s and the POST round trips of STREAM updates over CONNECTIONS connections."""
    updates = Updates(tg)
    updates.next_id = first_user
    batch = [updates.message(first_user + i, "/start") for i in range(STREAM)]
    poster = Poster(target.webhook_url, CONNECTIONS)
    queue = iter(batch)
    rtts: list[float] = []

    async def worker() -> None:
        rtts.extend([await poster.post(update) for update in queue])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    await poster.close()
    return STREAM / elapsed, rtts


async def first_call(tg: TelegramEmulator, target: Target, first_user: int) -> list[float]:
    """Seconds from POSTing each update to the first API call naming its chat (20/s)."""
    updates = Updates(tg)
    updates.next_id = first_user
    poster = Poster(target.webhook_url, CONNECTIONS)
    mark, sent = len(tg.calls), {}
    for i in range(PACED):
        update = updates.message(first_user + i, "/start")
        sent[update_key(update)] = time.monotonic()
        asyncio.create_task(poster.post(update))  # noqa: RUF006 - awaited below via calls
        await asyncio.sleep(1 / PACED_RATE)
    await tg.wait_for(lambda _: sent.keys() <= first_calls(tg, mark).keys(), timeout=60)
    await poster.close()
    seen = first_calls(tg, mark)
    return [seen[key] - at for key, at in sent.items()]


async def warm_up(tg: TelegramEmulator, target: Target, first_user: int) -> None:
    """A few updates, answered before measuring: connections, caches, the database."""
    updates = Updates(tg)
    updates.next_id = first_user
    batch = [updates.message(first_user + i, "/start") for i in range(WARM_UP)]
    poster = Poster(target.webhook_url, CONNECTIONS)
    mark = len(tg.calls)
    await asyncio.gather(*(poster.post(update) for update in batch))
    keys = {update_key(update) for update in batch}
    await tg.wait_for(lambda _: keys <= first_calls(tg, mark).keys(), timeout=60)
    await poster.close()


async def measure(launch: Launcher, first_user: int) -> tuple[float, list[float], list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        async with (
            run_telegram_emulator(flood_limits=False) as tg,
            launch(tg, Path(folder)) as target,
        ):
            await warm_up(tg, target, 10 * first_user)
            latencies = await first_call(tg, target, first_user)
            rate, rtts = await stream(tg, target, 20 * first_user)
    return rate, rtts, latencies


def ms(samples: list[float], share: float) -> float:
    return percentile(samples, share) * 1000


def report(name: str, rate: float, rtts: list[float], latencies: list[float]) -> None:
    print(f"{name:13} {rate:7.0f} updates/s   POST p50 {ms(rtts, 0.5):6.1f} ms  "
          f"p99 {ms(rtts, 0.99):6.1f} ms   update → first call p50 {ms(latencies, 0.5):6.1f} ms  "
          f"p99 {ms(latencies, 0.99):6.1f} ms")  # fmt: skip


async def main() -> None:
    async with scratch_database(sys.argv[1] if len(sys.argv) > 1 else None) as url:
        store: dict[str, Any] = {"DATABASE_URL": url} if url else {}
        base = await measure(echo_bot, 1_000_000)
        rec = await measure(lambda tg, folder: recording_bot(tg, folder, url), 3_000_000)
        trt = await measure(lambda tg, folder: trt_serve(tg, folder, **store), 2_000_000)
    print(f"{'Postgres' if url and url.startswith('postgres') else 'SQLite'}: stream of {STREAM} "
          f"over {CONNECTIONS} connections; first calls at {PACED_RATE:.0f}/s")  # fmt: skip
    report("bare aiogram", *base)
    report("recording", *rec)
    report("trt serve", *trt)
    rate_ratio = trt[0] / rec[0]
    p99_ratio = percentile(trt[1], 0.99) / percentile(rec[1], 0.99)
    mean = statistics.mean(trt[2]) / statistics.mean(rec[2])
    print(f"throughput ratio to recording {rate_ratio:.2f}x (target ≥ 0.8x) "
          f"{verdict(rate_ratio >= 0.8)}; to bare {trt[0] / base[0]:.2f}x")  # fmt: skip
    print(f"POST p99 ratio to recording   {p99_ratio:.2f}x (target ≤ 1.5x) "
          f"{verdict(p99_ratio <= 1.5)}")  # fmt: skip
    print(f"first-call mean ratio to recording {mean:.2f}x (no target)")


if __name__ == "__main__":
    asyncio.run(main())
