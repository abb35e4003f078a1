"""trt's CLI with wall-clock timers around the store calls an update makes (used by
`bench.update_breakdown`): when the process exits, the samples of each call, and of each
unit's phases under it (`Database.run`), go as JSON to the file named by $TRT_TIMINGS.

python -m bench._timed_trt serve …   (any trt command; only `serve` is timed)
"""

from __future__ import annotations

import atexit
import contextvars
import json
import os
import sys
import time
from collections import defaultdict
from typing import Any

samples: dict[str, list[float]] = defaultdict(list)
current = contextvars.ContextVar("current", default="other")

# (where, attribute, label): the calls timed, and under which label their transactions go.
TIMED = [
    ("trt.store.inbox:SqlInbox", "record_many", "record"),
    ("trt.store.inbox:SqlInbox", "claim", "claim"),
    ("trt.store.visits:SqlVisits", "arrive", "visit read"),
    ("trt.bot.free", "free_left", "free count"),
    ("trt.store.fsm", "_write", "form save"),
    ("trt.store.inbox:SqlInbox", "done", "done"),
    ("aiogram:Dispatcher", "feed_update", "feed_update (handlers)"),
    ("trt.bot.updates:UpdateProcessor", "_process", "claim → done"),
]


def _owner(where: str) -> Any:
    module, _, name = where.partition(":")
    found: Any = __import__(module, fromlist=["_"])
    return getattr(found, name) if name else found


def _timed(owner: Any, attribute: str, label: str) -> None:
    call = getattr(owner, attribute)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        token = current.set(label)
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            samples[label].append(time.perf_counter() - started)
            current.reset(token)

    setattr(owner, attribute, timed)


def _time_units() -> None:
    """Each `Database.run` unit (every store call the update path makes) in three phases."""
    from sqlalchemy import Connection

    from trt.store.engine import Database

    run = Database.run

    async def timed(self: Database, work: Any, **options: Any) -> Any:
        label, marks = current.get(), []

        def marked(conn: Connection) -> Any:
            marks.append(time.perf_counter())
            try:
                return work(conn)
            finally:
                marks.append(time.perf_counter())

        started = time.perf_counter()
        result = await run(self, marked, **options)
        began, ended = marks
        samples[f"{label}: begin (lock, thread or connection, BEGIN)"].append(began - started)
        samples[f"{label}: statements"].append(ended - began)
        samples[f"{label}: commit and back"].append(time.perf_counter() - ended)
        return result

    Database.run = timed  # type: ignore[method-assign]


def _dump() -> None:
    with open(os.environ["TRT_TIMINGS"], "w", encoding="utf-8") as out:
        json.dump(samples, out)


def main() -> None:
    if "serve" in sys.argv and os.environ.get("TRT_TIMINGS"):
        for where, attribute, label in TIMED:
            _timed(_owner(where), attribute, label)
        _time_units()
        atexit.register(_dump)
    from trt.cli import main as trt

    trt()


if __name__ == "__main__":
    main()
