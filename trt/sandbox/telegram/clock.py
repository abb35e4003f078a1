"""Clocks for the Telegram emulator's flood limits: real, or moved by the test."""

from trt.clocks import Clock, ManualClock, RealClock

__all__ = ["Clock", "ManualClock", "RealClock"]
