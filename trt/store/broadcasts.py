"""Broadcasts and each recipient's progress.

Recipients are chosen once, when the broadcast is queued (one INSERT … SELECT), and each
row moves pending → sending → an outcome through guarded UPDATEs: a row is claimed
(`sending`) in its own transaction before its message goes out, so a crash can leave at
most the rows in flight uncertain, never send a row twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import BroadcastState, RecipientState, TgUserId
from trt.errors import BroadcastFinished, BroadcastNotFound
from trt.records import BroadcastRecord, NewBroadcast, Recipient
from trt.store.engine import Database
from trt.store.tables import broadcast_recipients, broadcasts, users

ACTIVE = (BroadcastState.QUEUED, BroadcastState.SENDING)
recipients = broadcast_recipients


class SqlBroadcasts:
    """The BroadcastRepo port over SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def audience(self, language: str | None) -> int:
        """Users a broadcast in `language` (None: any) would reach now: not opted out, not
        blocked, not banned."""
        statement = (
            select(func.count()).select_from(users).where(*_reachable(), *_speaks(language))
        )
        async with self._db.transaction(readonly=True) as conn:
            return int((await conn.execute(statement)).scalar_one())

    async def create(self, new: NewBroadcast, *, now: datetime) -> BroadcastRecord:
        """Queue it with every user of its language as a pending recipient, at once."""
        async with self._db.transaction() as conn:
            row = {
                "text": new.text, "language": new.language, "state": BroadcastState.QUEUED,
                "created_by": new.created_by, "report_chat_id": new.report_chat_id,
                "total": 0, "created_at": now,
            }  # fmt: skip
            result = await conn.execute(
                broadcasts.insert().values(**row).returning(broadcasts.c.id)
            )
            broadcast_id = int(result.scalar_one())
            chosen = select(
                literal(broadcast_id), users.c.id, literal(RecipientState.PENDING.value)
            ).where(*_speaks(new.language))
            await conn.execute(
                recipients.insert().from_select(["broadcast_id", "user_id", "state"], chosen)
            )
            total = select(func.count()).where(recipients.c.broadcast_id == broadcast_id)
            await conn.execute(
                update(broadcasts)
                .where(broadcasts.c.id == broadcast_id)
                .values(total=total.scalar_subquery())
            )
            return await _get(conn, broadcast_id)

    async def get(self, broadcast_id: int) -> BroadcastRecord:
        """Raises: BroadcastNotFound."""
        async with self._db.transaction(readonly=True) as conn:
            return await _get(conn, broadcast_id)

    async def find(self, *, limit: int = 20) -> list[BroadcastRecord]:
        """Newest first, with their counts."""
        statement = select(broadcasts.c.id).order_by(broadcasts.c.id.desc()).limit(limit)
        async with self._db.transaction(readonly=True) as conn:
            ids = [int(i) for i in (await conn.execute(statement)).scalars()]
            return [await _get(conn, i) for i in ids]

    async def cancel(self, broadcast_id: int, *, by: str, now: datetime) -> BroadcastRecord:
        """Stop it; recipients not reached stay pending. Raises: BroadcastNotFound,
        BroadcastFinished."""
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                update(broadcasts)
                .where(broadcasts.c.id == broadcast_id, broadcasts.c.state.in_(ACTIVE))
                .values(state=BroadcastState.CANCELLED, finished_at=now, cancelled_by=by[:64])
            )
            record = await _get(conn, broadcast_id)
        if changed.rowcount != 1:
            raise BroadcastFinished(broadcast_id, record.state)
        return record

    async def next_active(self) -> BroadcastRecord | None:
        """The oldest broadcast queued or being sent."""
        statement = (
            select(broadcasts.c.id)
            .where(broadcasts.c.state.in_(ACTIVE))
            .order_by(broadcasts.c.id)
            .limit(1)
        )
        async with self._db.transaction(readonly=True) as conn:
            found = (await conn.execute(statement)).scalar_one_or_none()
            return None if found is None else await _get(conn, int(found))

    async def start(self, broadcast_id: int, *, now: datetime) -> bool:
        """Queued → sending; False when it was not queued."""
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                update(broadcasts)
                .where(broadcasts.c.id == broadcast_id)
                .where(broadcasts.c.state == BroadcastState.QUEUED)
                .values(state=BroadcastState.SENDING, started_at=now)
            )
        return changed.rowcount == 1

    async def interrupted(self, *, now: datetime) -> int:
        """Recipients left `sending` by a sender that stopped (a crash, lost leadership)
        become `unknown`: their message may have gone out, so it is never sent again."""
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                update(recipients)
                .where(recipients.c.state == RecipientState.SENDING)
                .values(
                    state=RecipientState.UNKNOWN, at=now, error="in flight when sending stopped"
                )
            )
        return int(changed.rowcount)

    async def pending(
        self, broadcast_id: int, *, after: int = -1, limit: int = 200
    ) -> list[Recipient]:
        """The next pending recipients (by user id, past `after`) with their flags now."""
        statement = (
            select(users.c.id, users.c.broadcast_opt_out, users.c.blocked_bot, users.c.is_banned)
            .join(users, users.c.id == recipients.c.user_id)
            .where(recipients.c.broadcast_id == broadcast_id)
            .where(recipients.c.state == RecipientState.PENDING)
            .where(recipients.c.user_id > after)
            .order_by(recipients.c.user_id)
            .limit(limit)
        )
        async with self._db.transaction(readonly=True) as conn:
            rows = (await conn.execute(statement)).all()
        return [Recipient(TgUserId(r[0]), bool(r[1]), bool(r[2]), bool(r[3])) for r in rows]

    async def claim(self, broadcast_id: int, user_id: TgUserId, *, now: datetime) -> bool:
        """Pending → sending while the broadcast is being sent; False otherwise (cancelled,
        or claimed already). Committed before the message is sent."""
        sending = (
            select(broadcasts.c.id)
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.state == BroadcastState.SENDING)
            .exists()
        )
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                _one(broadcast_id, user_id)
                .where(recipients.c.state == RecipientState.PENDING, sending)
                .values(state=RecipientState.SENDING, at=now)
            )
        return changed.rowcount == 1

    async def settle(
        self,
        broadcast_id: int,
        user_id: TgUserId,
        outcome: RecipientState,
        *,
        now: datetime,
        error: str | None = None,
    ) -> bool:
        """Record a recipient's outcome: from sending (or unknown, when a late answer says
        what happened), or straight from pending for a skip. False when nothing changed."""
        origins: Sequence[RecipientState] = (
            (RecipientState.PENDING,)
            if outcome is RecipientState.SKIPPED
            else (RecipientState.SENDING, RecipientState.UNKNOWN)
        )
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                _one(broadcast_id, user_id)
                .where(recipients.c.state.in_(origins))
                .values(state=outcome, at=now, error=error[:200] if error else None)
            )
        return changed.rowcount == 1

    async def finish(self, broadcast_id: int, *, now: datetime) -> BroadcastRecord | None:
        """Sending → done once no recipient is pending or in flight; the record when this
        call finished it (so one caller reports), else None."""
        open_rows = (
            select(recipients.c.user_id)
            .where(recipients.c.broadcast_id == broadcast_id)
            .where(recipients.c.state.in_((RecipientState.PENDING, RecipientState.SENDING)))
            .exists()
        )
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                update(broadcasts)
                .where(broadcasts.c.id == broadcast_id)
                .where(broadcasts.c.state == BroadcastState.SENDING, ~open_rows)
                .values(state=BroadcastState.DONE, finished_at=now)
            )
            return await _get(conn, broadcast_id) if changed.rowcount == 1 else None


def _one(broadcast_id: int, user_id: int) -> Any:
    return update(recipients).where(
        recipients.c.broadcast_id == broadcast_id, recipients.c.user_id == user_id
    )


def _reachable() -> list[Any]:
    return [~users.c.broadcast_opt_out, ~users.c.blocked_bot, ~users.c.is_banned]


def _speaks(language: str | None) -> list[Any]:
    """Users of `language`; a user with none set reads the bot in English."""
    if language is None:
        return []
    if language == "en":
        return [or_(users.c.language == "en", users.c.language.is_(None))]
    return [and_(users.c.language == language)]


async def _get(conn: AsyncConnection, broadcast_id: int) -> BroadcastRecord:
    row = (
        await conn.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id))
    ).one_or_none()
    if row is None:
        raise BroadcastNotFound(broadcast_id)
    counted = await conn.execute(
        select(recipients.c.state, func.count())
        .where(recipients.c.broadcast_id == broadcast_id)
        .group_by(recipients.c.state)
    )
    return _record(row, {RecipientState(state): int(n) for state, n in counted.all()})


def _record(row: Row[Any], counts: dict[RecipientState, int]) -> BroadcastRecord:
    values = row._asdict()
    return BroadcastRecord(
        **{**values, "state": BroadcastState(values["state"]), "counts": counts}
    )
