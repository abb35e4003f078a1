"""A fixed number of workers draining a bounded queue: background work that never takes
the event loop (or the database) away from the requests that feed it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerPool(Generic[T]):
    def __init__(
        self, handle: Callable[[T], Awaitable[object]], *, workers: int, capacity: int
    ) -> None:
        self._handle = handle
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=capacity)
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]

    def offer(self, item: T) -> bool:
        """Queue `item`; False when the queue is full (the caller's fallback takes over)."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def drain(self, seconds: float) -> None:
        """Wait (at most `seconds`) for queued work to finish, then stop the workers."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=seconds)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._handle(item)
            except Exception:  # one failing item must not stop the worker
                logger.exception("background work failed")
            finally:
                self._queue.task_done()
