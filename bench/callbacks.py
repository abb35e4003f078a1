"""KIE callbacks with 10,000 jobs in flight: `trt serve` (child process, SQLite file) with
10,000 submitted jobs seeded in its store, their tasks finished in the KIE emulator (in this
process); this script then POSTs every task's completion callback, as KIE would, over 40
connections, and waits until every job is delivered (jobs without a chat: the Telegram side
is bench/bot_delivery.py).

Figures: callback response time p50/p99 (target p99 ≤ 50 ms) beside a same-run baseline (a
bare aiohttp handler answering {"ok": true} on the same machine), settle-and-deliver
throughput, and KIE requests per job (target ≤ 2 on average). trt runs with
KIE_QUERIES_PER_SECOND=1000 so the throughput is its own: against KIE itself the key's limit
(10 recordInfo queries/s, the default) caps settling at 10 jobs/s.
Then, for a job whose callback never comes: recordInfo polls over 10 simulated minutes on
the reconciler's schedule (`next_poll` with the default late-callback period; target ≤ 15).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bench._servers import (
    HOST,
    free_port,
    migrate,
    percentile,
    seed_jobs,
    serve_env,
    trt_serve,
)
from bench._timing import verdict
from trt.core.schedule import next_poll
from trt.kie.base import Family
from trt.sandbox.kie.emulation import Schedule, callback_bodies
from trt.sandbox.kie.emulator import Emulator, run_emulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import Settings

JOBS = 10_000
CONNECTIONS = 40
FIRST_USER = 3_000_000
CALLBACK_TOKEN = "bench-callback-token"


async def fire(url: str, bodies: list[bytes]) -> tuple[list[float], float]:
    """POST every body over CONNECTIONS connections: round trips and the wall time."""
    rtts: list[float] = []
    queue = iter(bodies)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for body in queue:
                started = time.perf_counter()
                async with http.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    await r.read()
                    assert r.status == 200, r.status
                rtts.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return rtts, time.perf_counter() - began


async def baseline(bodies: list[bytes]) -> list[float]:
    """The same callbacks answered by a bare aiohttp handler in this process."""

    async def ok(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/cb", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    rtts, _ = await fire(f"http://{HOST}:{port}/cb", bodies)
    await runner.cleanup()
    return rtts


def tasks(kie: Emulator) -> tuple[list[str], list[bytes]]:
    """JOBS finished tasks in the emulator, and the completion callback body of each."""
    ids = [
        kie.create(Family.MARKET, "google/nano-banana", {"input": {"prompt": f"cat {n}"}})
        for n in range(JOBS)
    ]
    bodies = [json.dumps(callback_bodies(kie.view(kie.tasks[i]), kie.credits)[0]).encode()
              for i in ids]  # fmt: skip
    return ids, bodies


async def delivered(base_url: str, within: float) -> tuple[float, int]:
    """Seconds until /metrics counts every job delivered (or `within` passes), and how many."""
    began, done = time.perf_counter(), 0
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() - began < within and done < JOBS:
            await asyncio.sleep(0.25)
            async with http.get(f"{base_url}/metrics") as r:
                text = await r.text()
            # The deliveries counter is live; jobs by state are refreshed once a minute.
            series = 'trt_deliveries_total{result="ok"} '
            line = next((x for x in text.splitlines() if x.startswith(series)), series + "0")
            done = int(float(line.rsplit(" ", 1)[1]))
    return time.perf_counter() - began, done


def late_callback_polls() -> int:
    """recordInfo queries in 10 minutes for a job whose callback never comes."""
    period = timedelta(seconds=Settings(_env_file=None).kie_late_callback_seconds)
    age, polls = timedelta(0), 0
    while (age := age + next_poll(age, late_callback=period)) <= timedelta(minutes=10):
        polls += 1
    return polls


async def run() -> tuple[list[float], float, tuple[float, int], int, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        async with (
            run_telegram_emulator(flood_limits=False) as tg,
            run_emulator(rate_limit=None, schedule=Schedule(0, 0, 0), credits=10**9) as kie,
        ):
            ids, bodies = tasks(kie)
            base = await baseline(bodies)
            env = serve_env(tg, Path(folder), 0)
            await migrate(env)
            await seed_jobs(env["DATABASE_URL"], ids, first_user=FIRST_USER)
            extra = {"KIE_BASE_URL": kie.base_url, "KIE_UPLOAD_BASE_URL": kie.base_url,
                     "KIE_API_KEY": "bench", "KIE_QUERIES_PER_SECOND": "1000"}  # fmt: skip
            async with trt_serve(tg, Path(folder), migrated=True, **extra) as target:
                mark = len(kie.requests)
                url = f"{target.base_url}/callbacks/kie/{CALLBACK_TOKEN}"
                rtts, posting = await fire(url, bodies)
                settled = await delivered(target.base_url, within=90)
                queries = len(kie.requests) - mark
    return rtts, posting, settled, queries, base


async def main() -> None:
    rtts, posting, (settling, settled), queries, base = await run()
    p50, p99 = percentile(rtts, 0.5) * 1000, percentile(rtts, 0.99) * 1000
    b50, b99 = percentile(base, 0.5) * 1000, percentile(base, 0.99) * 1000
    per_job = 1 + queries / JOBS  # createTask (made before seeding) + what settling asked
    polls = late_callback_polls()
    print(f"{JOBS} callbacks over {CONNECTIONS} connections in {posting:.1f} s")
    print(f"{settled} delivered {settling:.1f} s after the last callback was answered "
          f"→ {settled / (posting + settling):.0f} jobs/s settled and delivered")  # fmt: skip
    print(f"callback response: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"bare aiohttp (baseline): p50 {b50:.1f} ms, p99 {b99:.1f} ms → {p99 / b99:.1f}x")
    print(f"target p99 ≤ 50 ms {verdict(p99 <= 50)}")
    print(f"KIE requests per job: {per_job:.2f} (1 createTask + {queries / JOBS:.2f} recordInfo)"
          f" (target ≤ 2) {verdict(per_job <= 2)}")  # fmt: skip
    print(f"no callback: {polls} recordInfo polls in 10 simulated minutes (target ≤ 15) "
          f"{verdict(polls <= 15)}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
