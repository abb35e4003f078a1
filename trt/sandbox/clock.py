"""Clocks for both emulators: the real monotonic one, or one a test moves by hand."""

from __future__ import annotations

import time


class RealClock:
    """Monotonic seconds."""

    manual = False

    def now(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when the test says so."""

    manual = True

    def __init__(self, start: float = 0.0) -> None:
        self.value = start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


Clock = RealClock | ManualClock
