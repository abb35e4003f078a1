"""Users: created on first contact; balances change only through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import TgUserId
from trt.errors import UserNotFound
from trt.records import Profile, UserRecord
from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.tables import users
from trt.store.text import fit


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
            created = await insert_new_user(conn, user_id, Profile(username, first_name, language))
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

    async def set_banned(self, user_id: TgUserId, banned: bool) -> UserRecord:
        """Raises: UserNotFound."""
        return await self._set(user_id, is_banned=banned)

    async def set_blocked_bot(self, user_id: TgUserId, blocked: bool) -> UserRecord:
        """Whether the user blocked the bot (Telegram answers 403). Raises: UserNotFound."""
        return await self._set(user_id, blocked_bot=blocked)

    async def set_broadcast_opt_out(self, user_id: TgUserId, opted_out: bool) -> UserRecord:
        """Whether the user declined announcements (/settings). Raises: UserNotFound."""
        return await self._set(user_id, broadcast_opt_out=opted_out)

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
        "id": user_id, "username": fit(profile.username, 64),
        "first_name": fit(profile.first_name, 128), "language": fit(profile.language, 8),
        "balance": 0, "held": 0, "is_banned": False,
        "blocked_bot": False, "created_at": now, "updated_at": now, "broadcast_opt_out": False,
    }  # fmt: skip


async def insert_new_user(conn: AsyncConnection, user_id: TgUserId, profile: Profile) -> bool:
    """The row of a first contact, unless the user is there already; whether it was new."""
    inserted = await conn.execute(
        insert_or_ignore(conn, users, new_user(user_id, profile), key="id")
    )
    return inserted.rowcount == 1


async def _find(conn: AsyncConnection, user_id: int) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).one_or_none()
    return None if row is None else to_user(row)


def to_user(row: Row[Any]) -> UserRecord:
    return user_from(row._asdict())


def user_from(values: dict[str, Any]) -> UserRecord:
    """A record from the `users` columns of a row, by name."""
    return UserRecord(**{**values, "id": TgUserId(values["id"])})
