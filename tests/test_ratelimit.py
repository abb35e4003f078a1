"""trt.ratelimit.TokenBucket: a burst, then the rate; tokens taken ahead of time queue."""

from __future__ import annotations

import pytest

from trt.ratelimit import TokenBucket


class TestTake:
    def test_a_burst_then_one_token_per_interval(self):
        """A full bucket gives `burst` tokens at once, then each next waits one more interval."""
        bucket = TokenBucket(rate=10, burst=3)
        assert [bucket.take(0.0) for _ in range(5)] == pytest.approx([0, 0, 0, 0.1, 0.2])

    def test_tokens_come_back_at_the_rate_up_to_the_burst(self):
        """Idle time refills the bucket at `rate`, never past `burst`."""
        bucket = TokenBucket(rate=2, burst=2)
        bucket.take(0.0)
        bucket.take(0.0)
        assert bucket.take(0.5) == 0
        assert bucket.take(0.5) == pytest.approx(0.5)
        assert [bucket.take(100.0) for _ in range(3)] == pytest.approx([0, 0, 0.5])

    def test_without_a_burst_calls_are_spaced_by_the_interval(self):
        """The default burst of one spaces calls 1/rate apart, the first one free."""
        bucket = TokenBucket(rate=4, now=10.0)
        assert [bucket.take(10.0), bucket.take(10.1), bucket.take(10.1)] == pytest.approx(
            [0, 0.15, 0.4]
        )


class TestDelay:
    def test_delay_takes_no_token(self):
        """`delay` says how long until a token is free and leaves the bucket as it was."""
        bucket = TokenBucket(rate=1, burst=1)
        assert bucket.delay(0.0) == 0
        bucket.take(0.0)
        assert bucket.delay(0.25) == pytest.approx(0.75)
        assert bucket.delay(0.25) == pytest.approx(0.75)
        assert bucket.delay(1.0) == 0


class TestIdle:
    def test_idle_once_full_again(self):
        """A bucket is idle (safe to forget) only once it has refilled to its burst."""
        bucket = TokenBucket(rate=1, burst=2)
        assert bucket.idle(0.0)
        bucket.take(0.0)
        assert not bucket.idle(0.5)
        assert bucket.idle(1.0)
