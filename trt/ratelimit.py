"""Token buckets: the one rate-limiting helper for KIE queries, outgoing Bot API calls and
the Telegram emulator's flood control. Pure arithmetic on a clock the caller reads, so a
test can move time by hand; callers that queue sleep on `take`'s answer themselves.
"""

from __future__ import annotations


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; it starts full at `now`."""

    def __init__(self, rate: float, burst: float = 1.0, *, now: float = 0.0) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, now: float) -> float:
        """Take a token, ahead of time if none is left: the seconds to wait before using it.
        Waiting callers queue in the order they took."""
        self._refill(now)
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def delay(self, now: float) -> float:
        """Seconds until a token is available, taking none (0: one is available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def idle(self, now: float) -> bool:
        """Full again: forgetting it changes nothing."""
        return self.tokens + (now - self.stamp) * self.rate >= self.burst

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
