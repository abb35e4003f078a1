"""A fixed number of workers draining a bounded queue: background work that never takes
the event loop (or the database) away from the requests that feed it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


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


class SerialPool(Generic[K, T]):
    """Workers over a bounded set of lines: items of one key run one at a time, in the
    order they were offered, while other keys' items run beside them (a user's updates in
    order, without one slow user holding up the rest)."""

    def __init__(
        self, handle: Callable[[T], Awaitable[object]], *, workers: int, capacity: int
    ) -> None:
        self._handle = handle
        self._workers = workers
        self.capacity = capacity
        self._lines: dict[K, deque[T]] = {}
        self._ready: asyncio.Queue[K] = asyncio.Queue()
        self._count = 0  # items offered and not finished
        self._running = 0  # items being handled
        self._changed = asyncio.Event()  # set whenever an item finishes
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]

    @property
    def pending(self) -> int:
        return self._count

    @property
    def idle(self) -> int:
        """Workers that would start a newly offered item at once."""
        return max(0, self._workers - self._running - self._ready.qsize())

    def holds(self, key: K) -> bool:
        """Whether an item of `key` is queued or running (a new one would wait for it)."""
        return key in self._lines

    def line(self, key: K) -> tuple[T, ...]:
        """The items of `key` a new one would wait for, the running one first."""
        return tuple(self._lines.get(key, ()))

    def offer(self, key: K, item: T, *, beyond_capacity: bool = False) -> bool:
        """Queue `item` behind its key's earlier ones; False when the pool is full (unless
        `beyond_capacity`: an item that may not be turned away)."""
        if self._count >= self.capacity and not beyond_capacity:
            return False
        self._count += 1
        line = self._lines.get(key)
        if line is None:
            self._lines[key] = deque([item])
            self._ready.put_nowait(key)
        else:
            line.append(item)
        return True

    async def wait_for_room(self, room: int) -> None:
        """Return once at least `room` more items would fit (at most: all of them)."""
        room = min(room, self.capacity)
        while self.capacity - self._count < room:
            self._changed.clear()
            await self._changed.wait()

    async def drain(self, seconds: float) -> None:
        """Wait (at most `seconds`) for queued work to finish, then stop the workers."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_for_room(self.capacity), timeout=seconds)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            key = await self._ready.get()
            line = self._lines[key]  # its head stays in the line while it runs
            self._running += 1
            try:
                await self._handle(line[0])
            except Exception:  # one failing item must not stop the worker
                logger.exception("background work failed")
            finally:
                self._running -= 1
                line.popleft()
                self._count -= 1
                if line:
                    self._ready.put_nowait(key)
                else:
                    del self._lines[key]
                self._changed.set()
