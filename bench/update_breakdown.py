"""Where an update's time goes in `trt serve`: bot_latency's walk (fewer users) against a
`trt serve` whose store calls are timed (`bench/_timed_trt.py`), then, per call an update
makes (inbox record, claim, the user-and-form read, the free count, the form save, done) and
per phase of its transaction, how often it runs per update and its p50/p99 in ms.

Before its first reply an update waits for: record (before the webhook's 200; it also claims
the update when a worker of this process starts it at once, and then reads its sender's
visit in the same unit, unless an update of theirs still runs), the visit read otherwise
(the user, their form and today's free count, one statement: its count per update below 1
is the share read with the claim), and for a wizard step the form save. `claim` runs only
for queued and recovered updates; `free count` is a lookup in what the visit brought.
`done` runs after the handler; the next update of the same sender waits for it. Each
store call is one `Database.run` unit: on an SQLite file it runs whole on a thread, so its
"begin" is the wait for the write lock and that thread, "commit and back" the hand-back.
The timers add a little to every figure.

    python -m bench.update_breakdown [DATABASE_URL]   # as bench.bot_latency
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from bench import _servers, bot_latency
from bench._servers import percentile, scratch_database

USERS = 100
ORDER = ["record", "claim", "visit read", "free count", "form save", "done"]
PHASES = ("begin (lock, thread or connection, BEGIN)", "statements", "commit and back")


def ms(samples: list[float], share: float) -> float:
    return percentile(samples, share) * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        timings = Path(folder) / "timings.json"
        os.environ["TRT_TIMINGS"] = str(timings)  # `trt serve` inherits it
        _servers.TRT[:] = [sys.executable, "-m", "bench._timed_trt"]
        bot_latency.USERS = USERS
        async with scratch_database(sys.argv[1] if len(sys.argv) > 1 else None) as url:
            sides = await bot_latency.measure(url)
        samples: dict[str, list[float]] = json.loads(timings.read_text())
    store = "Postgres" if url and url.startswith("postgres") else "SQLite"
    print(f"{store}: {USERS} users a bot; update → first outgoing call, p50 / p99 ms")
    for kind in bot_latency.KINDS:
        trt, rec = sides["trt"][kind], sides["recording"][kind]
        print(f"  {kind:17} trt {ms(trt, 0.5):5.1f} / {ms(trt, 0.99):5.1f}   "
              f"recording {ms(rec, 0.5):5.1f} / {ms(rec, 0.99):5.1f}")  # fmt: skip
    updates = len(samples["claim → done"])  # one per update a worker ran
    print(f"trt's store calls over {updates} updates: per update, p50 / p99 / mean ms")
    labels = [*ORDER, "feed_update (handlers)", "claim → done"]
    for label in labels:
        values = samples.get(label, [])
        if not values:
            continue
        mean = sum(values) / len(values) * 1000
        print(f"  {label:24} {len(values) / updates:4.2f}x  {ms(values, 0.5):6.2f} "
              f"{ms(values, 0.99):7.2f} {mean:7.2f}")  # fmt: skip
        for phase in PHASES:
            inner = samples.get(f"{label}: {phase}", [])
            if inner and label in ORDER:
                print(f"    {phase:42} {ms(inner, 0.5):6.2f} {ms(inner, 0.99):7.2f}")


if __name__ == "__main__":
    asyncio.run(main())
