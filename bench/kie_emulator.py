"""KIE emulator throughput: task creations per second with the rate limit off.
Target: ≥ 1,000/s.

The emulator runs alone in its own process (one event loop, as `trt kie emulate` runs);
the load comes from this process over 64 keep-alive connections with aiohttp, which is
cheaper per request than the server, so the figure is the server's.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from bench.kie_emulation import emulator_process

CREATIONS = 20_000
CONCURRENCY = 64
TARGET = 1_000
BODY = json.dumps(
    {"model": "google/nano-banana", "callBackUrl": None, "input": {"prompt": "a banana"}}
)
HEADERS = {"Authorization": "Bearer bench-key", "Content-Type": "application/json"}


async def load(base_url: str, count: int) -> float:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        remaining = iter(range(count))
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for _ in remaining:
                async with session.post(
                    "/api/v1/jobs/createTask", data=BODY, headers=HEADERS
                ) as answer:
                    payload = await answer.json()
                    failures += payload["code"] != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{failures} creations failed")
    return count / elapsed


def main() -> None:
    with emulator_process() as base_url:
        asyncio.run(load(base_url, 1_000))  # warm-up
        rate = asyncio.run(load(base_url, CREATIONS))
    print(f"emulator: {rate:8.0f} task creations/s over {CREATIONS} "
          f"(concurrency {CONCURRENCY}; target >= {TARGET}/s) "
          f"{'PASS' if rate >= TARGET else 'MISS'}")  # fmt: skip


if __name__ == "__main__":
    main()
