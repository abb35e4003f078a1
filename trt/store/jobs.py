"""Jobs and their event timeline. Every state change is a guarded UPDATE plus an event row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import (
    CreditSource,
    EventSource,
    JobId,
    JobState,
    TgUserId,
    new_job_id,
    sources_of,
)
from trt.errors import InvalidTransition, JobNotFound
from trt.records import JobChanges, JobEventRecord, JobFilter, JobRecord, NewJob
from trt.store.engine import EXPORT_BATCH, Database
from trt.store.tables import job_events, jobs


class SqlJobs:
    """The JobRepo port over SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, job_id: str) -> JobRecord:
        async with self._db.transaction(readonly=True) as conn:
            return await get_in(conn, job_id)

    async def transition(
        self,
        job_id: JobId,
        target: JobState,
        *,
        source: EventSource,
        detail: str | None = None,
        changes: JobChanges | None = None,
    ) -> JobRecord:
        async with self._db.transaction() as conn:
            return await transition_in(
                conn, job_id, target, source=source, detail=detail, changes=changes
            )

    async def find(self, query: JobFilter) -> list[JobRecord]:
        statement = select(jobs).order_by(jobs.c.id.desc()).limit(query.limit)
        if query.user_id is not None:
            statement = statement.where(jobs.c.user_id == query.user_id)
        if query.states:
            statement = statement.where(jobs.c.state.in_([s.value for s in query.states]))
        if query.model_id is not None:
            statement = statement.where(jobs.c.model_id == query.model_id)
        if query.since is not None:
            statement = statement.where(jobs.c.created_at >= query.since)
        if query.before_id is not None:
            statement = statement.where(jobs.c.id < query.before_id)
        async with self._db.transaction(readonly=True) as conn:
            return [to_job(row) for row in await conn.execute(statement)]

    async def export(self, *, since: datetime | None = None) -> AsyncIterator[JobRecord]:
        """Every job (created since `since`), oldest first, read in batches as consumed."""
        statement = select(jobs).order_by(jobs.c.id)
        if since is not None:
            statement = statement.where(jobs.c.created_at >= since)
        async with self._db.transaction(readonly=True) as conn:
            rows = await conn.stream(statement.execution_options(yield_per=EXPORT_BATCH))
            async for row in rows:
                yield to_job(row)

    async def events(self, job_id: JobId) -> list[JobEventRecord]:
        statement = select(job_events).where(job_events.c.job_id == job_id)
        async with self._db.transaction(readonly=True) as conn:
            rows = await conn.execute(statement.order_by(job_events.c.id))
            return [_to_event(row) for row in rows]

    async def set_status_message(self, job_id: str, message_id: int) -> None:
        """Remember the chat message that shows the job's progress, so edits can target it."""
        async with self._db.transaction() as conn:
            await conn.execute(
                jobs.update().where(jobs.c.id == job_id).values(status_message_id=message_id)
            )

    async def count_by_state(self) -> dict[JobState, int]:
        statement = select(jobs.c.state, func.count()).group_by(jobs.c.state)
        async with self._db.transaction(readonly=True) as conn:
            counts = {JobState(state): n for state, n in await conn.execute(statement)}
        return {state: counts.get(state, 0) for state in JobState}


async def create_in(conn: AsyncConnection, job: NewJob, source: EventSource) -> JobRecord:
    """Insert the job and its first event inside the caller's transaction. Jobs are made
    only by `SqlPipeline.open_job`, which holds the price in the same transaction."""
    now = datetime.now(UTC)
    job_id = new_job_id()
    values = {**asdict(job), "id": job_id, "state": job.state.value}
    values |= {"created_at": now, "updated_at": now, "delivery_attempts": 0}
    await conn.execute(insert(jobs).values(**values))
    await _add_event(
        conn, job_id, from_state=None, to_state=job.state, source=source, detail=None, at=now
    )
    return await get_in(conn, job_id)


async def transition_in(
    conn: AsyncConnection,
    job_id: JobId,
    target: JobState,
    *,
    source: EventSource,
    detail: str | None = None,
    changes: JobChanges | None = None,
    allow_same: bool = False,
) -> JobRecord:
    """The guarded UPDATE; usable inside a larger transaction. Raises: InvalidTransition.

    `allow_same` records an event without a state change (e.g. a refund of a delivered job).
    """
    now = datetime.now(UTC)
    allowed = [s.value for s in sources_of(target)] + ([target.value] if allow_same else [])
    # Lock the row (Postgres; SQLite transactions are already exclusive) so the state we
    # read is the one we replace, and the event's from-state is exact under races.
    previous = (
        await conn.execute(select(jobs.c.state).where(jobs.c.id == job_id).with_for_update())
    ).scalar_one_or_none()
    if previous is None:
        raise JobNotFound(job_id)
    if previous not in allowed:
        raise InvalidTransition(job_id, previous, target)
    await conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state.in_(allowed))
        .values(state=target.value, updated_at=now, **_change_values(changes))
    )
    await _add_event(
        conn, job_id, from_state=JobState(previous), to_state=target, source=source,
        detail=detail, at=now,
    )  # fmt: skip
    return await get_in(conn, job_id)


def _change_values(changes: JobChanges | None) -> dict[str, Any]:
    if changes is None:
        return {}
    values = {k: v for k, v in asdict(changes).items() if k != "extra" and v is not None}
    if "result_urls" in values:
        values["result_urls"] = list(values["result_urls"])
    return values | changes.extra


async def get_in(conn: AsyncConnection, key: str) -> JobRecord:
    """By job id or KIE task id. Raises: JobNotFound."""
    row = (
        await conn.execute(select(jobs).where(or_(jobs.c.id == key, jobs.c.kie_task_id == key)))
    ).first()
    if row is None:
        raise JobNotFound(key)
    return to_job(row)


async def _add_event(
    conn: AsyncConnection,
    job_id: str,
    *,
    from_state: JobState | None,
    to_state: JobState,
    source: EventSource,
    detail: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        insert(job_events).values(
            job_id=job_id,
            at=at,
            from_state=from_state.value if from_state else None,
            to_state=to_state.value,
            source=source.value,
            detail=detail,
        )
    )


def to_job(row: Row[Any]) -> JobRecord:
    values = row._asdict()
    values["id"] = JobId(values["id"])
    values["user_id"] = TgUserId(values["user_id"])
    values["state"] = JobState(values["state"])
    values["result_urls"] = tuple(values["result_urls"] or ())
    source = values["credits_source"]
    values["credits_source"] = CreditSource(source) if source is not None else None
    return JobRecord(**values)


def _to_event(row: Row[Any]) -> JobEventRecord:
    return JobEventRecord(
        id=row.id,
        job_id=JobId(row.job_id),
        at=row.at,
        from_state=JobState(row.from_state) if row.from_state else None,
        to_state=JobState(row.to_state),
        source=EventSource(row.source),
        detail=row.detail,
    )
