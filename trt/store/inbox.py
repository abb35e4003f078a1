"""The Telegram update inbox: an update is recorded before Telegram gets its 200, claimed by
one worker, and marked processed after the bot handled it. A crash leaves it unprocessed,
and its claim expires, so the leader processes it after a restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.tables import telegram_updates as inbox


class SqlInbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_many(
        self, updates: Sequence[tuple[int, dict[str, Any]]], *, claim: timedelta
    ) -> set[int]:
        """Store a batch of updates in one transaction, each claimed for `claim`; returns the
        update_ids that were new (a repeat, even within the batch, is left out)."""
        now = datetime.now(UTC)
        rows = [
            {"update_id": u, "payload": p, "received_at": now, "claimed_until": now + claim}
            for u, p in updates
        ]
        async with self._db.transaction() as conn:
            statement = insert_or_ignore(conn, inbox, rows, key="update_id")
            return set((await conn.execute(statement.returning(inbox.c.update_id))).scalars())

    async def claim(self, update_id: int, *, lease: timedelta) -> dict[str, Any] | None:
        """The payload if this worker may process the update now, else None."""
        now = datetime.now(UTC)
        async with self._db.transaction() as conn:
            claimed = await conn.execute(
                update(inbox)
                .where(inbox.c.update_id == update_id, inbox.c.processed_at.is_(None))
                .where(or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < now))
                .values(claimed_until=now + lease)
                .returning(inbox.c.payload)
            )
            payload: dict[str, Any] | None = claimed.scalar_one_or_none()
            return payload

    async def done(self, update_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                update(inbox)
                .where(inbox.c.update_id == update_id)
                .values(processed_at=datetime.now(UTC))
            )

    async def stranded(self, *, older_than: timedelta, limit: int = 100) -> list[int]:
        """Unprocessed updates nobody holds a claim on (left by a crash)."""
        now = datetime.now(UTC)
        query = (
            select(inbox.c.update_id)
            .where(inbox.c.processed_at.is_(None), inbox.c.received_at < now - older_than)
            .where(or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < now))
            .order_by(inbox.c.update_id)
            .limit(limit)
        )
        async with self._db.transaction(readonly=True) as conn:
            return list((await conn.execute(query)).scalars())

    async def prune(self, *, older_than: timedelta) -> int:
        """Delete processed updates received before `older_than` ago."""
        cutoff = datetime.now(UTC) - older_than
        async with self._db.transaction() as conn:
            result = await conn.execute(
                delete(inbox).where(
                    inbox.c.processed_at.is_not(None), inbox.c.received_at < cutoff
                )
            )
            return result.rowcount
