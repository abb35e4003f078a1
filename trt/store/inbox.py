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

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql

from trt.domain import TgUserId
from trt.store.base import Profile, UserRecord
from trt.store.dialect import insert_ignoring
from trt.store.direct import Prepared
from trt.store.engine import Database
from trt.store.tables import telegram_updates as inbox
from trt.store.tables import users
from trt.store.users import INSERT_NEW_USER, new_user, user_from


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
_UPDATE_KEYS = ("update_id", "payload", "received_at", "claimed_until")
_INSERT_UPDATE = Prepared(
    lambda dialect: insert_ignoring(dialect, inbox, key="update_id"), keys=_UPDATE_KEYS
)


def _update_and_user(_: str) -> Any:
    """INSERT the update … RETURNING whether its sender was new, the user's INSERT … ON
    CONFLICT DO NOTHING in a WITH (Postgres only: SQLite's WITH cannot insert)."""
    registered = (
        postgresql.insert(users)
        .values({c.key: bindparam(c.key, type_=c.type) for c in users.columns})
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(users.c.id)
        .cte("registered")
    )
    was_new = select(func.count()).select_from(registered).scalar_subquery() > 0
    return (
        postgresql.insert(inbox)
        .values({key: bindparam(key, type_=inbox.c[key].type) for key in _UPDATE_KEYS})
        .on_conflict_do_nothing(index_elements=["update_id"])
        .add_cte(registered)
        .returning(inbox.c.update_id, was_new.label("registered"))
    )


_UPDATE_AND_USER = Prepared(_update_and_user)
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
        # In key order, so two instances' overlapping batches lock rows in the same order.
        rows = [
            {"update_id": a.update_id, "payload": a.payload, "received_at": now,
             "claimed_until": now + claim}
            for a in sorted(arrivals, key=lambda a: a.update_id)
        ]  # fmt: skip
        senders = {a.sender[0]: new_user(*a.sender) for a in arrivals if a.sender is not None}
        unknown = [senders[user_id] for user_id in sorted(senders.keys() - self._registered)]
        if self._db.dialect == "postgresql" and len(rows) == len(unknown) == 1:
            recorded = await self._first_contact(rows[0], unknown[0])
        else:
            recorded = await self._record(rows, unknown)
        if len(self._registered) + len(senders) > KNOWN_SENDERS:
            self._registered.clear()  # a bound on memory; forgetting costs one INSERT each
        self._registered.update(senders)
        return recorded

    async def _record(self, rows: list[dict[str, Any]], users: list[dict[str, Any]]) -> Recorded:
        new: set[int] = set()
        created: dict[TgUserId, UserRecord] = {}
        async with self._db.direct(single=len(rows) + len(users) == 1) as conn:
            for row in rows:
                if await conn.run(_INSERT_UPDATE, row):
                    new.add(row["update_id"])
            for user in users:
                if await conn.run(INSERT_NEW_USER, user):
                    created[user["id"]] = user_from(user)
        return Recorded(new, created)

    async def _first_contact(self, row: dict[str, Any], user: dict[str, Any]) -> Recorded:
        """Postgres: a newcomer's update and their user row in one statement, so one round
        trip instead of a transaction's four (the commonest first update is /start)."""
        async with self._db.direct(single=True) as conn:
            found = await conn.rows(_UPDATE_AND_USER, {**row, **user})
        if not found:  # a repeated update: its sender was registered with it the first time
            return Recorded(set(), {})
        created = {user["id"]: user_from(user)} if found[0]["registered"] else {}
        return Recorded({row["update_id"]}, created)

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
