"""`trt serve` resident memory (child process, VmRSS from /proc): idle, and with 10,000 jobs
in flight (10,000 submitted jobs in its SQLite store whose completion callbacks all arrive
at once, sampled every 0.1 s until every job is delivered). Target: ≤ 250 MB.
Same-run baseline: the bare aiogram webhook bot, idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from bench._servers import echo_bot, migrate, rss_mb, seed_jobs, serve_env, trt_serve
from bench._timing import verdict
from bench.callbacks import CALLBACK_TOKEN, FIRST_USER, JOBS, delivered, fire, tasks
from trt.sandbox.kie.emulation import Schedule
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.runner import run_telegram_emulator

TARGET_MB = 250.0
SETTLE_FOR = 1.0  # seconds after start-up before "idle" is read


async def peak(pid: int, stop: asyncio.Event) -> float:
    """The highest RSS of `pid` until `stop`, sampled every 0.1 s."""
    highest = rss_mb(pid)
    while not stop.is_set():
        highest = max(highest, rss_mb(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)
    return highest


async def baseline() -> float:
    with tempfile.TemporaryDirectory() as folder:
        async with (
            run_telegram_emulator(flood_limits=False) as tg,
            echo_bot(tg, Path(folder)) as bot,
        ):
            await asyncio.sleep(SETTLE_FOR)
            return rss_mb(bot.pid)


async def loaded() -> tuple[float, float]:
    """RSS idle (10,000 jobs seeded, none active yet) and at its peak while they settle."""
    with tempfile.TemporaryDirectory() as folder:
        async with (
            run_telegram_emulator(flood_limits=False) as tg,
            run_emulator(rate_limit=None, schedule=Schedule(0, 0, 0), credits=10**9) as kie,
        ):
            ids, bodies = tasks(kie)
            env = serve_env(tg, Path(folder), 0)
            await migrate(env)
            await seed_jobs(env["DATABASE_URL"], ids, first_user=FIRST_USER)
            extra = {"KIE_BASE_URL": kie.base_url, "KIE_UPLOAD_BASE_URL": kie.base_url,
                     "KIE_API_KEY": "bench", "KIE_QUERIES_PER_SECOND": "1000"}  # fmt: skip
            async with trt_serve(tg, Path(folder), migrated=True, **extra) as target:
                await asyncio.sleep(SETTLE_FOR)
                idle = rss_mb(target.pid)
                stop = asyncio.Event()
                sampler = asyncio.create_task(peak(target.pid, stop))
                await fire(f"{target.base_url}/callbacks/kie/{CALLBACK_TOKEN}", bodies)
                await delivered(target.base_url, within=90)
                stop.set()
                return idle, await sampler


async def main() -> None:
    base = await baseline()
    idle, busy = await loaded()
    print(f"bare aiogram webhook bot, idle (baseline): {base:6.1f} MB")
    print(f"trt serve, idle:                           {idle:6.1f} MB ({idle / base:.1f}x)")
    print(f"trt serve, {JOBS} jobs in flight (peak):  {busy:6.1f} MB ({busy / base:.1f}x)")
    print(f"target ≤ {TARGET_MB:.0f} MB: {verdict(max(idle, busy) <= TARGET_MB)}")


if __name__ == "__main__":
    asyncio.run(main())
