"""Cold start, as Render's free plan causes it when an idle service is woken: from spawning
`trt serve` to the first webhook update answered, beside `python -c "import aiogram"` in
the same run. Target: ≤ the import + 1.5 s.

trt runs as in production: webhook mode, a migrated database (SQLite, or a scratch
Postgres database with `DATABASE_URL`), the real KIE client (pointed at the emulator). The
update is POSTed from the moment of the spawn and again every 20 ms until the server
takes it (Telegram likewise retries an update it could not deliver); it counts as answered
when the bot's reply reaches the Telegram emulator. Two figures: the 200 to Telegram, and
the reply.

    uv run python -m bench.cold_start [DATABASE_URL]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench._servers import (
    HOST,
    SECRET_HEADER,
    TRT,
    WEBHOOK_PATH,
    WEBHOOK_TOKEN,
    Updates,
    free_port,
    migrate,
    scratch_database,
    serve_env,
)
from bench._timing import verdict
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator

RUNS = 7
RETRY_EVERY = 0.02  # seconds between POSTs while the port is closed
TARGET_MARGIN = 1.5


async def post_until_taken(url: str, update: dict[str, object]) -> None:
    """POST until the server answers 200 (connection refused while it starts)."""
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.post(
                    url, json=update, headers={SECRET_HEADER: WEBHOOK_TOKEN}
                ) as r:
                    if r.status == 200:
                        return
                    raise RuntimeError(f"webhook answered {r.status}: {await r.text()}")
            await asyncio.sleep(RETRY_EVERY)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_once(
    tg: TelegramEmulator, env: dict[str, str], port: int, user: int, log: Path
) -> tuple[float, float, float]:
    """Seconds from the spawn to the 200 and to the bot's reply, and the CPU seconds trt
    used until the reply; then SIGINT."""
    update = Updates(tg).message(user, "/start")
    update["update_id"] = user  # a new update each run
    command = [*TRT, "serve", "--host", HOST, "--port", str(port)]
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)  # noqa: ASYNC220
    try:
        replied = asyncio.create_task(tg.wait_for_message(user, timeout=60))
        await post_until_taken(f"http://{HOST}:{port}/webhook/{WEBHOOK_PATH}", update)
        taken = time.perf_counter() - started
        await replied
        answered = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.to_thread(process.wait, 30)
    return taken, answered, cpu


def import_aiogram() -> tuple[float, float]:
    """Wall and CPU seconds of `python -c "import aiogram"`."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", "import aiogram"])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit("import aiogram failed")
    return wall, usage.ru_utime + usage.ru_stime


async def measure(database_url: str | None, folder: Path) -> list[float]:
    """Medians of the import (wall, CPU), the 200, the reply and trt's CPU until then; the
    import and trt take turns, so a busy spell on the machine falls on both."""
    async with (
        run_telegram_emulator(flood_limits=False) as tg,
        run_emulator(rate_limit=None) as kie,
        scratch_database(database_url) as url,
    ):
        port = free_port()
        extra = {"KIE_MODE": "real", "KIE_API_KEY": "bench-kie-key",
                 "KIE_BASE_URL": kie.base_url, "KIE_UPLOAD_BASE_URL": kie.base_url}  # fmt: skip
        env = serve_env(tg, folder, port, **extra, **({"DATABASE_URL": url} if url else {}))
        await migrate(env)
        await start_once(tg, env, port, 10_000, folder / "serve.log")  # warm-up: bytecode
        samples = []
        for n in range(RUNS):
            baseline = await asyncio.to_thread(import_aiogram)
            trt = await start_once(tg, env, port, 10_001 + n, folder / "serve.log")
            samples.append((*baseline, *trt))
    return [statistics.median(column) for column in zip(*samples, strict=True)]


def main() -> None:
    database_url = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as folder:
        baseline, baseline_cpu, taken, answered, cpu = asyncio.run(
            measure(database_url, Path(folder))
        )
    store = "SQLite" if database_url is None else "Postgres"
    print(f"python -c 'import aiogram' (baseline): {baseline:.3f} s (CPU {baseline_cpu:.3f} s)")
    print(f"trt serve ({store}) spawn → webhook 200: {taken:.3f} s")
    print(f"trt serve ({store}) spawn → bot's reply: {answered:.3f} s (CPU {cpu:.3f} s)")
    print(f"CPU margin over the import: {cpu - baseline_cpu:+.3f} s")
    margin = answered - baseline
    print(f"margin over the import: {margin:+.3f} s  (target ≤ +{TARGET_MARGIN} s)")
    print(verdict(margin <= TARGET_MARGIN))


if __name__ == "__main__":
    main()
