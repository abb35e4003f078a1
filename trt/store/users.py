"""Users: created on first contact; balances change only through the ledger."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, Row, Select, Update, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import LedgerKind, TgUserId, UserOrder, storable_id
from trt.errors import UserNotFound
from trt.records import Profile, UserOverview, UserRecord
from trt.store.dialect import insert_ignoring
from trt.store.engine import Database
from trt.store.tables import ledger_entries, users
from trt.store.text import clean, fit


class SqlUsers:
    """The UserRepo port over SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(
        self,
        user_id: TgUserId,
        *,
        username: str | None = None,
        first_name: str | None = None,
        language: str | None = None,
    ) -> tuple[UserRecord, bool]:
        # Nearly every update comes from a known user: look without the write lock first.
        async with self._db.transaction(readonly=True) as conn:
            existing = await _find(conn, user_id)
        if existing is not None:
            return existing, False
        async with self._db.transaction() as conn:
            # A concurrent first contact may insert the same user; the loser just reads it.
            profile = Profile(username, first_name, language)
            row = new_user(user_id, profile)
            inserted = await conn.execute(first_contact(conn.dialect.name), row)
            created = inserted.rowcount == 1
            record = await _find(conn, user_id)
            assert record is not None
            return record, created

    async def get(self, user_id: TgUserId) -> UserRecord:
        """Raises: UserNotFound."""
        async with self._db.transaction(readonly=True) as conn:
            record = await _find(conn, user_id)
        if record is None:
            raise UserNotFound(user_id)
        return record

    async def set_language(self, user_id: TgUserId, language: str) -> UserRecord:
        """Raises: UserNotFound."""
        return await self._set(user_id, language=language)

    async def set_banned(
        self, user_id: TgUserId, banned: bool, *, reason: str | None = None, by: str | None = None
    ) -> UserRecord:
        """Ban or unban, recording why, who and when. Raises: UserNotFound."""
        return await self._set(
            user_id, is_banned=banned, ban_reason=None if reason is None else clean(reason),
            ban_changed_by=fit(by, 64), ban_changed_at=datetime.now(UTC),
        )  # fmt: skip

    async def set_blocked_bot(self, user_id: TgUserId, blocked: bool) -> UserRecord:
        """Whether the user blocked the bot (Telegram answers 403). Raises: UserNotFound."""
        return await self._set(user_id, blocked_bot=blocked)

    async def set_broadcast_opt_out(self, user_id: TgUserId, opted_out: bool) -> UserRecord:
        """Whether the user declined announcements (/settings). Raises: UserNotFound."""
        return await self._set(user_id, broadcast_opt_out=opted_out)

    async def overview(
        self, *, order: UserOrder, limit: int, text: str | None = None
    ) -> list[UserOverview]:
        """Users with what they spent, sorted by `order`; with `text`, only those whose id
        is it or whose username or first name contains it, in any case."""
        statement = overview_statement(order, limit)
        if text is not None:
            statement = statement.where(matching(text))
        async with self._db.transaction(readonly=True) as conn:
            rows = (await conn.execute(statement)).mappings().all()
        return [UserOverview(**{**row, "id": TgUserId(row["id"])}) for row in rows]

    async def count(self) -> int:
        async with self._db.transaction() as conn:
            return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())

    async def _set(self, user_id: TgUserId, **values: object) -> UserRecord:
        async with self._db.transaction() as conn:
            await conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(updated_at=datetime.now(UTC), **values)
            )
            record = await _find(conn, user_id)
        if record is None:
            raise UserNotFound(user_id)
        return record


def new_user(user_id: TgUserId, profile: Profile) -> dict[str, Any]:
    """The `users` row of a user's first contact: no Stars, not banned."""
    now = datetime.now(UTC)
    return {
        "id": user_id, **names(profile), "language": fit(profile.language, 8),
        "balance": 0, "held": 0, "is_banned": False,
        "blocked_bot": False, "created_at": now, "updated_at": now, "broadcast_opt_out": False,
    }  # fmt: skip


def names(profile: Profile) -> dict[str, str | None]:
    """The name columns of `profile` as stored: cut to fit, with their search key."""
    username, first_name = fit(profile.username, 64), fit(profile.first_name, 128)
    return {"username": username, "first_name": first_name,
            "name_key": name_key(username, first_name)}  # fmt: skip


def name_key(username: str | None, first_name: str | None) -> str:
    """What search compares with: both names, casefolded (Unicode-aware on both backends)."""
    return " ".join(part for part in (username, first_name) if part).casefold()[:200]


def renamed(user: UserRecord, profile: Profile) -> bool:
    """Whether Telegram now names the user differently from their stored row."""
    stored = (user.username, user.first_name)
    return stored != (fit(profile.username, 64), fit(profile.first_name, 128))


def rename(user_id: TgUserId, profile: Profile) -> Update:
    """Store the names Telegram gives now (the language stays the user's choice)."""
    return (
        update(users)
        .where(users.c.id == user_id)
        .values(**names(profile), updated_at=datetime.now(UTC))
    )


def overview_statement(order: UserOrder, limit: int) -> Select[Any]:
    spent = (
        select(
            ledger_entries.c.user_id,
            func.sum(
                case(
                    (ledger_entries.c.kind == LedgerKind.REFUND.value, -ledger_entries.c.amount),
                    else_=ledger_entries.c.amount,
                )
            ).label("spent"),
        )  # fmt: skip
        .where(ledger_entries.c.kind.in_([LedgerKind.CHARGE.value, LedgerKind.REFUND.value]))
        .group_by(ledger_entries.c.user_id)
        .subquery()
    )
    spent_stars = func.coalesce(spent.c.spent, 0)
    u = users.c
    ordering = (
        (spent_stars.desc(), u.id) if order is UserOrder.SPENT else (u.created_at.desc(), u.id)
    )
    return (
        select(
            u.id,
            u.username,
            u.first_name,
            u.language,
            u.balance,
            u.held,
            spent_stars.label("spent"),
            u.is_banned,
            u.blocked_bot,
            u.created_at,
        )  # fmt: skip
        .outerjoin(spent, spent.c.user_id == u.id)
        .order_by(*ordering)
        .limit(limit)
    )


def matching(text: str) -> ColumnElement[bool]:
    """Users `text` finds: by id when it is one, else in either name (`@name` too)."""
    wanted = clean(text.strip().removeprefix("@")).casefold()
    found = users.c.name_key.contains(wanted, autoescape=True)
    if wanted.isdigit() and storable_id(int(wanted)):
        return or_(users.c.id == int(wanted), found)
    return found


@functools.cache
def first_contact(dialect: str) -> Insert:
    """The INSERT of a first contact's row (`new_user`, given when executed), unless the user
    is there already: a row count of 1 says they are new. Built once per dialect: building
    it per update, with its cache key, cost more than running it."""
    statement: Insert = insert_ignoring(dialect, users, key="id")
    return statement


async def _find(conn: AsyncConnection, user_id: int) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).one_or_none()
    return None if row is None else to_user(row)


def to_user(row: Row[Any]) -> UserRecord:
    return user_from(row._asdict())


def user_from(values: dict[str, Any]) -> UserRecord:
    """A record from the `users` columns of a row, by name."""
    fields = {k: v for k, v in values.items() if k != "name_key"}  # search's, not a record's
    return UserRecord(**{**fields, "id": TgUserId(values["id"])})
