"""Clocks for the Telegram emulator's flood limits: real, or moved by the test."""

from __future__ import annotations

import time


class RealClock:
    """Monotonic seconds."""

    manual = False

    def now(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when the test calls `advance`."""

    manual = True

    def __init__(self, start: float = 0.0) -> None:
        self.value = start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


Clock = RealClock | ManualClock
