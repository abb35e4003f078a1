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
from trt.errors import DatabaseUnavailable, InvalidTransition, TrtError
from trt.logs import log_event
from trt.records import JobRecord

logger = logging.getLogger(__name__)

POLLED = (JobState.SUBMITTED, JobState.RUNNING)
ORPHANED = (JobState.HELD, JobState.SUBMITTING)
UNDELIVERED = (JobState.SUCCEEDED,)
BATCH = 100
CONCURRENCY = 10
RELEASE_SECONDS = 5.0  # how long giving up the lock may take before the connection is dropped
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
    """Run `action` on each job. Raises: DatabaseUnavailable when the database went away
    meanwhile (once for the pass, not once per job: the supervisor logs the outage)."""
    limit = asyncio.Semaphore(CONCURRENCY)
    outages: list[DatabaseUnavailable] = []

    async def guarded(job: JobRecord) -> None:
        async with limit:
            if outages:
                return  # it stays due: the next pass after the outage takes it
            try:
                await action(job)
            except DatabaseUnavailable as exc:
                outages.append(exc)
            except Exception:  # one bad job must not stop the others; it stays due
                logger.exception("reconciling job %s failed", job.id)

    await asyncio.gather(*(guarded(j) for j in jobs))
    if outages:
        raise outages[0]


async def _fail_orphan(gen: Generation, job: JobRecord) -> None:
    with contextlib.suppress(InvalidTransition):  # it moved on meanwhile
        await gen.fail(
            job.id, FailureReason.NOT_SUBMITTED, f"left {job.state} by a crash",
            EventSource.RECONCILER,
        )  # fmt: skip


class LeaderStuck(TrtError):
    """A pass ran past the time a leader may go without finishing one."""


class Reconciler:
    """Runs passes while this process holds leadership; competes for it otherwise.

    `step` is one turn, repeated by the serve process's supervisor. A leader whose turn
    takes longer than `stuck_after` (a hung pass, an unanswered lock check) gives up
    leadership: another instance may then lead, and this one competes again later.
    """

    def __init__(
        self,
        gen: Generation,
        lock: LeaderLock,
        *,
        stuck_after: float = 300.0,
        on_leadership: Callable[[bool], Awaitable[None]] | None = None,
    ) -> None:
        self.gen = gen
        self.lock = lock
        self.stuck_after = stuck_after
        self.is_leader = False
        self.decided = asyncio.Event()  # set once the first try for the lock has answered
        self._on_leadership = on_leadership

    async def step(self) -> None:
        """Keep or take leadership, then (as the leader) run one pass.

        Raises: why the lock or the pass failed, after giving up leadership when the lock
        itself is in doubt or the pass hung.
        """
        try:
            async with asyncio.timeout(self.stuck_after):
                leader = await self.lock.try_acquire()
        except Exception as exc:
            await self.step_down(f"the leader lock failed: {exc}")
            raise
        if leader != self.is_leader:
            await self._set_leader(leader, "took the leader lock" if leader else "lock lost")
        self.decided.set()
        if not leader:
            return
        try:
            async with asyncio.timeout(self.stuck_after):
                report = await run_pass(self.gen, now=self.gen.now())
        except TimeoutError:
            reason = f"a reconciler pass ran over {self.stuck_after:g} s"
            await self.step_down(reason)
            raise LeaderStuck(reason) from None
        if not report.empty:
            logger.info(
                "reconciler: polled %d, failed %d orphans, delivered %d",
                len(report.polled), len(report.orphans_failed), len(report.deliveries),
            )  # fmt: skip

    async def step_down(self, reason: str) -> None:
        """Release the lock (bounded: its connection may be dead or hung) and stop leading."""
        with contextlib.suppress(Exception):  # a dead lock connection is freed server-side
            async with asyncio.timeout(RELEASE_SECONDS):
                await self.lock.release()
        if self.is_leader:
            await self._set_leader(False, reason)

    async def _set_leader(self, leader: bool, reason: str) -> None:
        self.is_leader = leader
        log_event(
            logger, "leader_gained" if leader else "leader_lost", host=socket.gethostname(),
            pid=os.getpid(), reason=reason,
        )  # fmt: skip
        if self._on_leadership is not None:
            await self._on_leadership(leader)
