"""The generation pipeline's atomic steps: a job's state and its money move together.

Each function is one transaction, so a crash leaves either both changes or neither, and a
duplicate callback, a racing poll or a second instance finds the guard already moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import CreditSource, EventSource, JobId, JobState, LedgerKind
from trt.errors import LedgerConflict, TooManyActiveJobs, UserNotFound
from trt.records import FreeGrant, JobChanges, JobRecord, NewJob
from trt.store.allowance import free_key_prefix, free_used_in
from trt.store.engine import Database
from trt.store.jobs import create_in, get_in, to_job, transition_in
from trt.store.ledger import (
    apply_in,
    charge_of,
    credit_movement,
    hold_movement,
    part_refund_movement,
    settle_in,
)
from trt.store.tables import jobs, ledger_entries, users

ACTIVE_STATES = (JobState.HELD, JobState.SUBMITTING, JobState.SUBMITTED, JobState.RUNNING)


class SqlPipeline:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_job(
        self, job: NewJob, *, max_active: int, free: FreeGrant | None = None
    ) -> tuple[JobRecord, bool]:
        """Create the job and hold its price; a repeated request key returns the first job.

        `free`: when the user has a free generation left on that day, credit the price as
        that day's next free one first, in the same transaction (so a replayed request can
        neither take a second free one nor lose the first).

        Raises: InsufficientBalance, TooManyActiveJobs, UserNotFound.
        """
        async with self._db.transaction() as conn:
            if job.request_key is not None:
                existing = await _by_request_key(conn, job.request_key)
                if existing is not None:
                    return existing, False
            await _lock_user(conn, job.user_id)
            active = await _count_active(conn, job.user_id)
            if active >= max_active:
                raise TooManyActiveJobs(job.user_id, max_active)
            created = await create_in(conn, replace(job, state=JobState.QUOTED), EventSource.USER)
            if free is not None:
                await _grant_free(conn, job, free, created.id)
            await apply_in(conn, hold_movement(job.user_id, created.id, job.price_stars))
            held = await transition_in(conn, created.id, JobState.HELD, source=EventSource.USER)
            return held, True

    async def succeed(
        self,
        job_id: JobId,
        *,
        result_urls: Sequence[str],
        real_credits: float | None,
        credits_source: CreditSource,
        source: EventSource,
        next_check_at: datetime,
    ) -> JobRecord:
        """The hold becomes a charge, the results and KIE's real credits are stored (the
        quote stays in `kie_credits`). Raises: InvalidTransition."""
        changes = JobChanges(
            result_urls=result_urls, next_check_at=next_check_at,
            extra={"real_credits": real_credits, "credits_source": credits_source.value},
        )  # fmt: skip
        async with self._db.transaction() as conn:
            job = await transition_in(
                conn, job_id, JobState.SUCCEEDED, source=source, changes=changes
            )
            await settle_in(conn, job_id, LedgerKind.CHARGE)
            return job

    async def fail(self, job_id: JobId, *, reason: str, source: EventSource) -> JobRecord:
        """Failed, the hold released, and released recorded, at once. Raises: InvalidTransition."""
        async with self._db.transaction() as conn:
            await transition_in(
                conn, job_id, JobState.FAILED, source=source, detail=reason,
                changes=JobChanges(error=reason),
            )  # fmt: skip
            job = await get_in(conn, job_id)
            if await _has_hold(conn, job):
                await settle_in(conn, job_id, LedgerKind.RELEASE, reason=reason)
            return await transition_in(
                conn, job_id, JobState.RELEASED, source=source,
                changes=JobChanges(extra={"next_check_at": None}),
            )  # fmt: skip

    async def refund(self, job_id: JobId, *, reason: str, source: EventSource) -> bool:
        """Return a charged job's Stars; False when it was refunded before.

        Raises: LedgerConflict when the job was never charged.
        """
        async with self._db.transaction() as conn:
            job = await get_in(conn, job_id)
            result = await settle_in(conn, job_id, LedgerKind.REFUND, reason=reason)
            if result is None:
                return False
            await transition_in(
                conn, job_id, job.state, source=source,
                detail=f"refunded {result.entry.amount} ⭐: {reason}", allow_same=True,
            )  # fmt: skip
            return True

    async def refund_part(
        self, job_id: JobId, amount: int, *, reason: str, source: EventSource
    ) -> bool:
        """Return `amount` of a charged job's Stars (results KIE did not deliver), once per
        job; False when done before. Raises: LedgerConflict (never charged, or the amount
        is more than the charge)."""
        async with self._db.transaction() as conn:
            charge = await charge_of(conn, job_id)
            if charge is None or amount > charge.amount:
                raise LedgerConflict(f"job {job_id}: no charge of at least {amount} ⭐ to return")
            if await apply_in(conn, part_refund_movement(charge, amount, reason)) is None:
                return False
            job = await get_in(conn, job_id)
            await transition_in(
                conn, job_id, job.state, source=source,
                detail=f"refunded {amount} ⭐: {reason}", allow_same=True,
            )  # fmt: skip
            return True

    async def claim_due(
        self, states: Sequence[JobState], *, now: datetime, lease_until: datetime, limit: int
    ) -> list[JobRecord]:
        """Jobs in `states` whose check is due, leased until `lease_until` so one worker
        handles each. The lease is a guarded UPDATE (still due?), so of two claimers only
        one gets a job; finding nothing due takes no write lock."""
        due = [job.id for job in await self.due(states, now=now, limit=limit)]
        if not due:
            return []
        claim = (
            update(jobs)
            .where(jobs.c.id.in_(due), jobs.c.state.in_([s.value for s in states]))
            .where(jobs.c.next_check_at <= now)
            .values(next_check_at=lease_until)
            .returning(*jobs.c)
        )
        async with self._db.transaction() as conn:
            claimed = await conn.execute(claim)
            return sorted((to_job(row) for row in claimed), key=lambda j: j.id)

    async def due(
        self, states: Sequence[JobState], *, now: datetime, limit: int
    ) -> list[JobRecord]:
        """Jobs in `states` whose check is due, without claiming them (for a dry run)."""
        query = (
            select(jobs)
            .where(jobs.c.state.in_([s.value for s in states]), jobs.c.next_check_at <= now)
            .order_by(jobs.c.next_check_at)
            .limit(limit)
        )
        async with self._db.transaction(readonly=True) as conn:
            return [to_job(row) for row in await conn.execute(query)]

    async def schedule(
        self, job_id: JobId, *, next_check_at: datetime | None, delivery_attempt: bool = False
    ) -> None:
        """Set when the job is next looked at (and count a failed delivery)."""
        values: dict[str, Any] = {"next_check_at": next_check_at, "updated_at": datetime.now(UTC)}
        if delivery_attempt:
            values["delivery_attempts"] = jobs.c.delivery_attempts + 1
        async with self._db.transaction() as conn:
            await conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


async def _by_request_key(conn: AsyncConnection, key: str) -> JobRecord | None:
    row = (await conn.execute(select(jobs).where(jobs.c.request_key == key))).one_or_none()
    return None if row is None else to_job(row)


async def _grant_free(conn: AsyncConnection, job: NewJob, free: FreeGrant, job_id: JobId) -> None:
    used = await free_used_in(conn, job.user_id, free.day)
    if used < free.daily:
        key = f"{free_key_prefix(job.user_id, free.day)}{used + 1}"
        reason = f"free generation: {job.model_id}"
        movement = credit_movement(
            job.user_id, job.price_stars, kind=LedgerKind.BONUS, key=key, reason=reason
        )
        await apply_in(conn, replace(movement, job_id=job_id))  # the result says "free"


async def _lock_user(conn: AsyncConnection, user_id: int) -> None:
    """Serialise one user's job openings so the active-job limit cannot be raced past."""
    query = select(users.c.id).where(users.c.id == user_id).with_for_update()
    if (await conn.execute(query)).one_or_none() is None:
        raise UserNotFound(user_id)


async def _count_active(conn: AsyncConnection, user_id: int) -> int:
    query = select(func.count()).where(
        jobs.c.user_id == user_id, jobs.c.state.in_([s.value for s in ACTIVE_STATES])
    )
    return int((await conn.execute(query)).scalar_one())


async def _has_hold(conn: AsyncConnection, job: JobRecord) -> bool:
    """A job that failed before its hold (quoted) has nothing to release."""
    query = select(ledger_entries.c.id).where(ledger_entries.c.key == f"hold:{job.id}")
    return (await conn.execute(query)).one_or_none() is not None
