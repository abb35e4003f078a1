"""`trt jobs list --limit 50` (and with --user) on SQLite seeded with 1,000,000 jobs over
50,000 users; target ≤ 1.5 s wall each. The seeded file is kept in bench/out/ for reuse."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._timing import VENV_BIN, verdict, wall

JOBS = 1_000_000
USERS = 50_000
OUT = Path(__file__).with_name("out")
DB = OUT / f"jobs_{JOBS}.db"
STATES = ["delivered"] * 8 + ["released", "running", "failed"]
MODELS = ["google/nano-banana", "veo3_fast", "suno-v5", "flux-2/pro-text-to-image"]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(ms: int, rng: random.Random) -> str:
    value = ms << 80 | rng.getrandbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def seed(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(VENV_BIN / "trt"), "db", "upgrade"], check=True, env=env)
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=365)
    with sqlite3.connect(DB) as conn:
        now = start.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.executemany(
            "INSERT INTO users (id, balance, held, is_banned, blocked_bot, created_at, updated_at)"
            " VALUES (?, 0, 0, 0, 0, ?, ?)",
            ((100_000 + u, now, now) for u in range(USERS)),
        )
        conn.executemany(
            "INSERT INTO jobs (id, user_id, model_id, api_family, params, state, price_stars,"
            " delivery_attempts, created_at, updated_at) VALUES (?,?,?,?,?,?,?,0,?,?)",
            (_job(n, start, rng) for n in range(JOBS)),
        )


def _job(n: int, start: datetime, rng: random.Random) -> tuple[object, ...]:
    at = start + timedelta(seconds=n * 30)
    stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    ms = int(at.timestamp() * 1000)
    return (ulid(ms, rng), 100_000 + rng.randrange(USERS), rng.choice(MODELS), "market",
            '{"prompt": "x"}', rng.choice(STATES), rng.randint(1, 90), stamp, stamp)  # fmt: skip


def main() -> None:
    OUT.mkdir(exist_ok=True)
    url = f"sqlite+aiosqlite:///{DB}"
    if not DB.exists():
        began = time.perf_counter()
        seed(url)
        print(f"seeded {JOBS:,} jobs over {USERS:,} users in {time.perf_counter() - began:.1f} s")
    env = {**os.environ, "DATABASE_URL": url}
    trt = str(VENV_BIN / "trt")
    subprocess.run([trt, "db", "upgrade"], check=True, env=env, capture_output=True)
    baseline = wall([sys.executable, "-c", "import typer"], runs=5)
    plain = wall([trt, "jobs", "list", "--limit", "50"], runs=5, env=env)
    by_user = wall([trt, "jobs", "list", "--limit", "50", "--user", "100123"], runs=5, env=env)
    print(f"python -c 'import typer' (baseline):   {baseline:.3f} s")
    print(f"trt jobs list --limit 50:              {plain:.3f} s  ({plain / baseline:.1f}x)")
    print(f"trt jobs list --limit 50 --user …:     {by_user:.3f} s  ({by_user / baseline:.1f}x)")
    print("target ≤ 1.5 s each:", verdict(max(plain, by_user) <= 1.5))


if __name__ == "__main__":
    main()
