"""Every long-running task of `trt serve` runs here, so none can die unnoticed.

A task either repeats a step (`every`: the reconciler, inbox recovery, lease renewal),
retries a step until it succeeds once (`until_done`: setWebhook at start), or runs a body
that should never end (`keep_running`: worker loops, polling). A failure is logged once
per episode, not per attempt; the task backs off (capped, exponential) and goes on; one
line says when it works again. `failing()` names what is failing now, for `/health`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from trt.errors import TrtError

logger = logging.getLogger(__name__)

Step = Callable[[], Awaitable[object]]
BACKOFF_START = 0.5
BACKOFF_CAP = 30.0
# A restarted body that stays up this long counts as recovered.
SETTLED_AFTER = 5.0
RECENT = 30.0


def describe(exc: BaseException) -> str:
    """One line naming an error: its type and the first line of its message, cut short
    (a proxy's error page must not fill the log)."""
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@dataclass
class Episode:
    """One thing that fails and recovers: logs the first failure of a run of failures, and
    one line when it works again."""

    name: str
    every_attempt: bool = False  # one line per failed attempt (and never a traceback)
    failures: int = 0
    since: float = 0.0
    last: float = 0.0  # when it last failed (monotonic)
    reason: str = ""

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        self.last = time.monotonic()
        if self.every_attempt:
            logger.warning("%s: attempt %d failed: %s", self.name, self.failures, describe(exc))
        if self.failures > 1:
            return
        self.since, self.reason = time.monotonic(), describe(exc)
        if self.every_attempt:
            return
        if isinstance(exc, TrtError):  # an outage we understand: its message says it all
            logger.warning("%s failing: %s", self.name, self.reason)
        else:  # a bug: the traceback, once
            logger.error("%s failing: %s", self.name, self.reason, exc_info=exc)

    def ok(self) -> None:
        if not self.failures:
            return
        logger.info(
            "%s recovered after %d failed attempts in %.1f s",
            self.name, self.failures, time.monotonic() - self.since,
        )  # fmt: skip
        self.failures = 0


class Backoff:
    """Capped exponential delays: start, 2×start, … up to cap; `reset` after a success."""

    def __init__(self, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> None:
        self.start, self.cap = start, cap
        self.current = start

    def next(self) -> float:
        delay, self.current = self.current, min(self.current * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.current = self.start


class Supervisor:
    def __init__(
        self,
        *,
        backoff_start: float = BACKOFF_START,
        backoff_cap: float = BACKOFF_CAP,
        settled_after: float = SETTLED_AFTER,
    ) -> None:
        self._backoff = (backoff_start, backoff_cap)
        self._settled_after = settled_after
        self._stop = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._episodes: dict[str, Episode] = {}

    def failing(self) -> list[str]:
        """What fails now: tasks whose last attempt failed (or that ended and are being
        restarted), and request paths (the webhook) that failed in the last RECENT seconds
        without succeeding since: no request may come to tell they work again."""
        now = time.monotonic()
        return sorted(
            name
            for name, e in self._episodes.items()
            if e.failing and (name in self._tasks or now - e.last < RECENT)
        )

    def episode(self, name: str, *, every_attempt: bool = False) -> Episode:
        """The episode `name` reports into (tasks, and request paths like the webhook)."""
        return self._episodes.setdefault(name, Episode(name, every_attempt=every_attempt))

    def backoff(self) -> Backoff:
        """A fresh backoff with this supervisor's delays, for retries inside a task."""
        return Backoff(*self._backoff)

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def every(self, name: str, step: Step, *, interval: float | Callable[[], float]) -> None:
        """Run `step` again `interval` seconds after each success, sooner after none."""
        wait = interval if callable(interval) else (lambda: interval)
        self._spawn(name, self._repeat(name, step, wait))

    def until_done(self, name: str, step: Step, *, every_attempt: bool = False) -> None:
        """Retry `step` with backoff until it succeeds once (logging each failed attempt
        with `every_attempt`: for calls an operator watches, like setWebhook at start)."""
        self.episode(name, every_attempt=every_attempt)
        self._spawn(name, self._repeat(name, step, None))

    def keep_running(self, name: str, body: Step) -> None:
        """Run `body`; restart it, with backoff, whenever it raises or ends before `stop`."""
        self._spawn(name, self._restart(name, body))

    async def cancel(self, name: str) -> None:
        """Stop one task (e.g. leader-only work when leadership is lost)."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._episodes.pop(name, None)

    async def stop(self) -> None:
        """Cancel every task and wait for them (never raises what a task raised)."""
        self._stop.set()
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, name: str, body: Coroutine[Any, Any, None]) -> None:
        if self.running(name):  # already supervised: asking twice changes nothing
            body.close()
            return
        self.episode(name)
        self._tasks[name] = asyncio.ensure_future(body)

    async def _repeat(self, name: str, step: Step, wait: Callable[[], float] | None) -> None:
        episode, backoff = self.episode(name), Backoff(*self._backoff)
        while not self._stop.is_set():
            try:
                await step()
            except Exception as exc:  # the task goes on: that is the point of the supervisor
                episode.failed(exc)
                if episode.failures > 1:
                    logger.debug("%s failed again: %s", name, describe(exc))
                await self._pause(backoff.next())
                continue
            episode.ok()
            backoff.reset()
            if wait is None:
                return
            await self._pause(wait())

    async def _restart(self, name: str, body: Step) -> None:
        episode, backoff = self.episode(name), Backoff(*self._backoff)
        while not self._stop.is_set():
            run = asyncio.ensure_future(body())
            try:
                if episode.failing:
                    done, _ = await asyncio.wait({run}, timeout=self._settled_after)
                    if not done:
                        episode.ok()
                        backoff.reset()
                await run
            except Exception as exc:
                episode.failed(exc)
            else:
                if self._stop.is_set():
                    return
                episode.failed(TaskEnded(f"{name} ended unexpectedly; restarting it"))
            finally:
                run.cancel()  # when this task itself is cancelled mid-wait
            await self._pause(backoff.next())

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)


class TaskEnded(TrtError):
    """A task that should run until shutdown returned."""
