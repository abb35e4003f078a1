"""When the pipeline looks at a job again, and how fast it may ask KIE.

With callbacks configured the callback is the trigger, so polling only catches callbacks
that are late or lost: a first look after two minutes, then every two minutes (a 10-minute
job whose callback never comes costs 5 queries). Without callbacks (local polling mode)
polling follows KIE's guidance (`BACKGROUND`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from trt.ratelimit import TokenBucket

# A job still `held` or `submitting` this long after its last step was orphaned by a crash.
ORPHAN_GRACE = timedelta(minutes=2)
# How long a claimed job is hidden from the next reconciler pass. Passes do not overlap, so
# this only covers a leader change mid-pass; it is also how long a crash delays a job.
LEASE = timedelta(seconds=10)
# A delivery can take minutes (a 50 MB upload); no second sender may start meanwhile. It is
# also how long a crash in the middle of a delivery delays the result (DELIVERY_LEASE_SECONDS).
DELIVERY_LEASE = timedelta(minutes=2)

# With callbacks on, a job is polled this often in case its callback was lost.
LATE_CALLBACK_EVERY = timedelta(minutes=2)


@dataclass(frozen=True)
class PollSchedule:
    """Seconds between record queries by seconds since submission, after KIE's guidance:
    every 2–3 s in the first 30 s, every 5–10 s until 2 minutes, then every 15–30 s."""

    steps: tuple[tuple[float, float], ...] = ((30.0, 2.0), (120.0, 5.0))
    after: float = 15.0

    def delay(self, elapsed: float) -> float:
        return next((d for until, d in self.steps if elapsed < until), self.after)

    @classmethod
    def every(cls, seconds: float) -> PollSchedule:
        """A constant interval (the emulator, whose tasks take a second)."""
        return cls(steps=(), after=seconds)


# Someone watching a terminal (`trt submit`) gets the short end of KIE's ranges; the server,
# polling many jobs under one rate limit, the long end.
WATCHED = PollSchedule()
BACKGROUND = PollSchedule(steps=((30.0, 3.0), (120.0, 10.0)), after=30.0)


# A callback says KIE is done, yet the record read right after it may not be final (or be
# "recordInfo is null", which KIE answers for a while after creation): look again within
# seconds, doubling the wait, until it reaches the late-callback period.
RECHECK_FIRST = timedelta(seconds=1)


def next_recheck(
    *, after_callback: bool, since_scheduled: timedelta, late_callback: timedelta | None
) -> timedelta | None:
    """The wait before re-reading a record that was not final, when a callback started a
    run of quick re-checks (None: the ordinary schedule applies).

    No counter is stored: a poll that came sooner than `late_callback` after the job was
    last scheduled is one of these re-checks, and the next waits twice as long."""
    if late_callback is None:
        return None
    if after_callback:
        return RECHECK_FIRST
    if timedelta(0) <= since_scheduled < late_callback:
        return min(late_callback, max(RECHECK_FIRST, since_scheduled * 2))
    return None


def next_poll(age: timedelta, *, late_callback: timedelta | None) -> timedelta:
    """The wait before the next status query of a job created `age` ago; `late_callback` is
    the polling period when callbacks are expected, None when they are not."""
    if late_callback is not None:
        return late_callback
    return timedelta(seconds=BACKGROUND.delay(age.total_seconds()))


def next_delivery(attempts: int) -> timedelta:
    """Back-off between delivery attempts: 30 s doubling, at most an hour."""
    return min(timedelta(seconds=30 * 2**attempts), timedelta(hours=1))


class RateLimiter:
    """At most `per_second` calls per second across every caller (KIE allows 10 queries/s
    per key); callers queue instead of being refused."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._bucket = TokenBucket(per_second, now=clock())

    async def wait(self) -> None:
        # The token is taken before sleeping, so callers wake in the order they came.
        delay = self._bucket.take(self._clock())
        if delay > 0:
            await self._sleep(delay)
