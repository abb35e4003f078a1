"""The Telegram update inbox: an update is recorded before Telegram gets its 200, claimed by
one worker, and marked processed after the bot handled it. A crash leaves it unprocessed,
and its claim expires, so the leader processes it after a restart.

Recording also registers each update's sender as a user, in the same transaction: a first
contact then costs no write of its own before the bot can answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update

from trt.domain import TgUserId
from trt.store.base import Profile, UserRecord
from trt.store.dialect import insert_ignoring
from trt.store.direct import Prepared
from trt.store.engine import Database
from trt.store.tables import telegram_updates as inbox
from trt.store.tables import users
from trt.store.users import new_user, user_from


@dataclass(frozen=True, slots=True)
class Arrival:
    update_id: int
    payload: dict[str, Any]
    sender: tuple[TgUserId, Profile] | None = None  # who sent it, when someone did


@dataclass(frozen=True, slots=True)
class Recorded:
    new: set[int]  # update_ids not seen before (a repeat, even within the batch, is left out)
    new_users: dict[TgUserId, UserRecord]  # senders who were not users yet: their new rows


KNOWN_SENDERS = 50_000

# INSERT … ON CONFLICT DO NOTHING, one row each: changing no row means it was there.
_INSERT_UPDATE = Prepared(
    lambda dialect: insert_ignoring(dialect, inbox, key="update_id"),
    keys=("update_id", "payload", "received_at", "claimed_until"),
)
_INSERT_USER = Prepared(
    lambda dialect: insert_ignoring(dialect, users, key="id"), keys=users.columns.keys()
)
_DONE = Prepared(
    update(inbox)
    .where(inbox.c.update_id == bindparam("update_id"))
    .values(processed_at=bindparam("now", type_=inbox.c.processed_at.type))
)


class SqlInbox:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Senders this process saw registered. Users are never deleted, so their next
        # updates skip the INSERT (should one be missing after all, the bot's visit read
        # registers them: `SqlVisits.arrive`).
        self._registered: set[TgUserId] = set()

    async def record_many(self, arrivals: Sequence[Arrival], *, claim: timedelta) -> Recorded:
        """Store a batch of updates in one transaction, each claimed for `claim`, and
        register their senders."""
        now = datetime.now(UTC)
        senders = {a.sender[0]: new_user(*a.sender) for a in arrivals if a.sender is not None}
        unknown = sorted(senders.keys() - self._registered)
        new: set[int] = set()
        created: dict[TgUserId, UserRecord] = {}
        single = len(arrivals) + len(unknown) == 1
        async with self._db.direct(single=single) as conn:
            # In key order, so two instances' overlapping batches lock rows in the same order.
            for a in sorted(arrivals, key=lambda a: a.update_id):
                row = {"update_id": a.update_id, "payload": a.payload, "received_at": now,
                       "claimed_until": now + claim}  # fmt: skip
                if await conn.run(_INSERT_UPDATE, row):
                    new.add(a.update_id)
            for user_id in unknown:
                if await conn.run(_INSERT_USER, senders[user_id]):
                    created[user_id] = user_from(senders[user_id])
        if len(self._registered) + len(senders) > KNOWN_SENDERS:
            self._registered.clear()  # a bound on memory; forgetting costs one INSERT each
        self._registered.update(senders)
        return Recorded(new, created)

    async def claim(self, update_id: int, *, lease: timedelta) -> dict[str, Any] | None:
        """The payload if this worker may process the update now, else None."""
        now = datetime.now(UTC)
        async with self._db.transaction(small=True) as conn:
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
        async with self._db.direct(single=True) as conn:
            await conn.run(_DONE, {"update_id": update_id, "now": datetime.now(UTC)})

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
