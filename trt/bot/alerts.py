"""Operational alerts for the admin chat: failure bursts and low KIE credits."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from trt.records import JobRecord

CREDITS_CHECK_EVERY = 300.0  # seconds: KIE's balance is asked at most this often


class FailureBurst:
    """Counts failed jobs in a sliding window; says so once when `count` is reached."""

    def __init__(
        self, count: int = 5, minutes: float = 10, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.count = count
        self.window = minutes * 60
        self._clock = clock
        self._times: deque[float] = deque()
        self._alerted_at = -float("inf")

    def record(self, job: JobRecord) -> str | None:
        """The alert text when this failure completes a burst, else None."""
        now = self._clock()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        if len(self._times) < self.count or now - self._alerted_at < self.window:
            return None
        self._alerted_at = now
        minutes = f"{self.window / 60:g}"
        return (
            f"{len(self._times)} generations failed in the last {minutes} min; "
            f"latest: {job.model_id}: {job.error}"
        )


class CreditWatch:
    """Alerts once when KIE credits fall under the threshold (again after they recover)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = Decimal(f"{threshold:g}")
        self._checked_at = -float("inf")
        self._low = False

    def due(self) -> bool:
        return time.monotonic() - self._checked_at >= CREDITS_CHECK_EVERY

    def observe(self, credits: Decimal) -> str | None:
        self._checked_at = time.monotonic()
        low = credits < self.threshold
        alert = low and not self._low
        self._low = low
        if not alert:
            return None
        return f"KIE credits are low: {credits} left (alert threshold {self.threshold})"
