"""What KIE really charged per job, and the cost guard's episodes per model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from trt.domain import CreditSource, JobId, JobState
from trt.records import MeasuredJob
from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.tables import cost_guard, jobs

SETTLED = (JobState.SUCCEEDED.value, JobState.DELIVERED.value)


class SqlCosts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_late(self, job_id: JobId, credits: float) -> bool:
        """KIE's callback figure for a succeeded job settled without one (a poll came
        first); False when the job has a figure already or did not succeed."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state.in_(SETTLED))
                .where(jobs.c.real_credits.is_(None))
                .values(real_credits=credits, credits_source=CreditSource.CALLBACK.value)
            )
            return bool(result.rowcount)

    async def window(self, model_id: str, *, jobs_back: int) -> list[MeasuredJob]:
        """The model's last `jobs_back` succeeded jobs with real credits, newest first."""
        query = (
            select(jobs.c.id, jobs.c.price_stars, jobs.c.kie_credits, jobs.c.real_credits)
            .where(jobs.c.model_id == model_id, jobs.c.state.in_(SETTLED))
            .where(jobs.c.real_credits.is_not(None))
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(jobs_back)
        )
        async with self._db.transaction(readonly=True) as conn:
            rows = (await conn.execute(query)).all()
        return [
            MeasuredJob(JobId(job_id), int(price), float(quote or 0.0), float(real))
            for job_id, price, quote, real in rows
        ]

    async def trip(self, model_id: str, *, detail: str, at: datetime) -> bool:
        """Open the model's episode; False when it is open already (an earlier job, or
        another instance, raised the alert)."""
        async with self._db.transaction() as conn:
            reopened = await conn.execute(
                update(cost_guard)
                .where(cost_guard.c.model_id == model_id, cost_guard.c.tripped.is_(False))
                .values(tripped=True, detail=detail, tripped_at=at)
            )
            if reopened.rowcount:
                return True
            row = {"model_id": model_id, "tripped": True, "detail": detail, "tripped_at": at}
            created = await conn.execute(insert_or_ignore(conn, cost_guard, row, key="model_id"))
            return bool(created.rowcount)

    async def recover(self, model_id: str, *, at: datetime) -> bool:
        """Close the model's open episode; False when none was open."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(cost_guard)
                .where(cost_guard.c.model_id == model_id, cost_guard.c.tripped.is_(True))
                .values(tripped=False, recovered_at=at)
            )
            return bool(result.rowcount)

    async def tripped(self) -> dict[str, str]:
        """Models whose episode is open, with what tripped them."""
        query = select(cost_guard.c.model_id, cost_guard.c.detail).where(
            cost_guard.c.tripped.is_(True)
        )
        async with self._db.transaction(readonly=True) as conn:
            return {model: detail or "" for model, detail in await conn.execute(query)}
