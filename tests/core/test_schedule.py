"""trt.core.schedule.RateLimiter: KIE queries beyond the rate queue, in order."""

from __future__ import annotations

import asyncio

import pytest

from trt.core.schedule import RateLimiter


class FakeTime:
    """A clock that moves only when the test says so; sleeps are recorded, not slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class TestRateLimiter:
    async def test_callers_beyond_the_rate_wait_their_turn(self):
        """At 10/s the first query goes at once and each next one waits 0.1 s longer."""
        time = FakeTime()
        limiter = RateLimiter(10, clock=time.clock, sleep=time.sleep)
        await asyncio.gather(*(limiter.wait() for _ in range(4)))
        assert time.slept == pytest.approx([0.1, 0.2, 0.3])

    async def test_an_idle_limiter_lets_the_next_query_through(self):
        """After a pause longer than the interval a query does not wait at all."""
        time = FakeTime()
        limiter = RateLimiter(10, clock=time.clock, sleep=time.sleep)
        await limiter.wait()
        time.now = 5.0
        await limiter.wait()
        assert time.slept == []
