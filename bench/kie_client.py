"""KIE client overhead: createTask + recordInfo round trips per second against the emulator,
beside a bare httpx loop sending the same two requests in the same run. Target: ≥ 0.8× the
bare loop.

The emulator runs in its own process so that both loops pay the same server cost; both
loops are serial (one request in flight), so the difference is the client's own work:
building the request, the envelope and record parsing, the retry wrapper.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.kie_emulation import emulator_process
from trt.kie.base import CreateTask, Family
from trt.kie.client import KieClient

ROUND_TRIPS = 1_500
ROUNDS = 3
TARGET = 0.8
REQUEST = CreateTask(
    family=Family.MARKET,
    model="google/nano-banana",
    input={"prompt": "a banana in space", "output_format": "png", "image_size": "1:1"},
    callback_url=None,
)
HEADERS = {"Authorization": "Bearer bench-key"}


async def bare_loop(base_url: str, count: int) -> float:
    async with httpx.AsyncClient(base_url=base_url) as http:
        body = {"model": REQUEST.model, "input": dict(REQUEST.input)}
        start = time.perf_counter()
        for _ in range(count):
            created = await http.post("/api/v1/jobs/createTask", json=body, headers=HEADERS)
            task_id = created.json()["data"]["taskId"]
            record = await http.get(
                "/api/v1/jobs/recordInfo", params={"taskId": task_id}, headers=HEADERS
            )
            assert record.json()["data"]["state"]
        return count / (time.perf_counter() - start)


async def client_loop(base_url: str, count: int) -> float:
    client = KieClient.connect(api_key="bench-key", base_url=base_url, upload_base_url=base_url)
    try:
        start = time.perf_counter()
        for _ in range(count):
            task_id = await client.create_task(REQUEST)
            record = await client.get_task(Family.MARKET, task_id)
            assert record.state
        return count / (time.perf_counter() - start)
    finally:
        await client.aclose()


async def measure(base_url: str) -> tuple[float, float]:
    await bare_loop(base_url, 200)  # warm-up: connections, caches, the emulator's JIT-free paths
    await client_loop(base_url, 200)
    bare, ours = [], []
    for _ in range(ROUNDS):  # interleaved so that drift hits both alike
        bare.append(await bare_loop(base_url, ROUND_TRIPS))
        ours.append(await client_loop(base_url, ROUND_TRIPS))
    return max(bare), max(ours)


def main() -> None:
    with emulator_process() as base_url:
        bare, ours = asyncio.run(measure(base_url))
    ratio = ours / bare
    print(f"bare httpx loop : {bare:8.0f} createTask+recordInfo round trips/s")
    print(f"KieClient       : {ours:8.0f} createTask+recordInfo round trips/s")
    print(f"ratio           : {ratio:8.2f}x (target >= {TARGET}x) "
          f"{'PASS' if ratio >= TARGET else 'MISS'}")  # fmt: skip


if __name__ == "__main__":
    main()
