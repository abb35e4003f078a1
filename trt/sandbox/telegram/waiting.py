"""Waiting for the emulator's state to change, without sleeping."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Notifier:
    """Wakes every waiter whenever `notify` is called; waiters re-check their condition."""

    def __init__(self) -> None:
        self._wakers: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waker in self._wakers:
            if not waker.done():
                waker.set_result(None)
        self._wakers.clear()

    async def changed(self, seconds: float | None) -> None:
        """Return at the next `notify`, or after `seconds`."""
        waker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wakers.add(waker)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waker, seconds)
        finally:
            self._wakers.discard(waker)

    async def until(
        self, check: Callable[[], T | None], within: float, what: str = "condition"
    ) -> T:
        """The first truthy value of `check()`, re-checked on every change.

        Raises:
            TimeoutError: `check()` stayed falsy for `within` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            value = check()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{what} not met within {within} s")
            await self.changed(remaining)
