"""The chat message that shows a job's progress."""

from __future__ import annotations

from trt.store.engine import Database
from trt.store.tables import jobs


async def set_status_message(db: Database, job_id: str, message_id: int) -> None:
    """Remember the chat message that shows the job's progress, so edits can target it."""
    async with db.transaction() as conn:
        await conn.execute(
            jobs.update().where(jobs.c.id == job_id).values(status_message_id=message_id)
        )
