"""The reconciler: the one loop (on the leader) that makes every job reach an end.

Each job carries `next_check_at`; a pass claims what is due: jobs whose callback is late
are polled, jobs orphaned by a crash before KIE had them are failed and released, and
results that could not be delivered are sent again. A crash therefore needs no special
resume step: on start the due jobs are simply picked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trt.core import schedule
from trt.core.failures import FailureReason
from trt.core.generation import Generation
from trt.core.ports import LeaderLock
from trt.domain import EventSource, JobId, JobState
from trt.errors import InvalidTransition
from trt.logs import log_event
from trt.records import JobRecord

logger = logging.getLogger(__name__)

POLLED = (JobState.SUBMITTED, JobState.RUNNING)
ORPHANED = (JobState.HELD, JobState.SUBMITTING)
UNDELIVERED = (JobState.SUCCEEDED,)
BATCH = 100
CONCURRENCY = 10
Action = Callable[[JobRecord], Awaitable[object]]


@dataclass
class PassReport:
    polled: list[JobId] = field(default_factory=list)
    orphans_failed: list[JobId] = field(default_factory=list)
    deliveries: list[JobId] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.polled or self.orphans_failed or self.deliveries)


async def run_pass(gen: Generation, *, now: datetime, dry_run: bool = False) -> PassReport:
    """Handle every job that is due now (or, with `dry_run`, only list them)."""
    report = PassReport()
    steps: list[tuple[tuple[JobState, ...], list[JobId], Action, timedelta]] = [
        (POLLED, report.polled, lambda job: gen.refresh(job, source=EventSource.RECONCILER),
         schedule.LEASE),
        (ORPHANED, report.orphans_failed, lambda job: _fail_orphan(gen, job), schedule.LEASE),
        (UNDELIVERED, report.deliveries, gen.deliver, gen.delivery_lease),
    ]  # fmt: skip
    for states, done, action, lease_for in steps:
        if dry_run:
            jobs = await gen.store.pipeline.due(states, now=now, limit=BATCH)
        else:
            lease = now + lease_for
            jobs = await gen.store.pipeline.claim_due(
                states, now=now, lease_until=lease, limit=BATCH
            )
            await _each(jobs, action)
        done += [j.id for j in jobs]
    return report


async def _each(jobs: list[JobRecord], action: Action) -> None:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def guarded(job: JobRecord) -> None:
        async with limit:
            try:
                await action(job)
            except Exception:  # one bad job must not stop the others; it stays due
                logger.exception("reconciling job %s failed", job.id)

    await asyncio.gather(*(guarded(j) for j in jobs))


async def _fail_orphan(gen: Generation, job: JobRecord) -> None:
    with contextlib.suppress(InvalidTransition):  # it moved on meanwhile
        await gen.fail(
            job.id, FailureReason.NOT_SUBMITTED, f"left {job.state} by a crash",
            EventSource.RECONCILER,
        )  # fmt: skip


class Reconciler:
    """Runs passes while this process holds leadership; competes for it otherwise."""

    def __init__(
        self,
        gen: Generation,
        lock: LeaderLock,
        *,
        interval: float = 1.0,
        on_leadership: Callable[[bool], Awaitable[None]] | None = None,
    ) -> None:
        self.gen = gen
        self.lock = lock
        self.interval = interval
        self.is_leader = False
        self.decided = asyncio.Event()  # set once the first try for the lock has answered
        self._on_leadership = on_leadership

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self._step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.interval)
        finally:
            if self.is_leader:
                await self.lock.release()
                await self._set_leader(False)

    async def _step(self) -> None:
        leader = await self.lock.try_acquire()
        if leader != self.is_leader:
            await self._set_leader(leader)
        self.decided.set()
        if not leader:
            return
        try:
            now = self.gen.now()
            report = await run_pass(self.gen, now=now)
            if not report.empty:
                logger.info(
                    "reconciler: polled %d, failed %d orphans, delivered %d",
                    len(report.polled), len(report.orphans_failed), len(report.deliveries),
                )  # fmt: skip
        except Exception:  # the loop must survive a bad pass (e.g. the database blinked)
            logger.exception("reconciler pass failed")

    async def _set_leader(self, leader: bool) -> None:
        self.is_leader = leader
        log_event(
            logger, "leader_gained" if leader else "leader_lost", host=socket.gethostname(),
            pid=os.getpid(), reason="won the leader lock" if leader else "lock released or lost",
        )  # fmt: skip
        if self._on_leadership is not None:
            await self._on_leadership(leader)
