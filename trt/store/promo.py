"""Promo codes. A redemption is one transaction: a unique (code, user) row, a guarded
`used = used + 1` that only passes while uses are left, and a BONUS credit. Whatever
refuses rolls the other two back, so racing users never take more than the code allows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import LedgerKind, PromoRefusal, TgUserId
from trt.errors import PromoExists, PromoNotFound, PromoRefused, UserNotFound
from trt.records import PromoRecord, Redemption
from trt.store.engine import Database
from trt.store.ledger import apply_in, credit_movement
from trt.store.tables import promo_codes, promo_redemptions, users


class SqlPromo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, code: str, stars: int, *, uses: int | None = None,
        expires_at: datetime | None = None, new_users_only: bool = False,
    ) -> PromoRecord:  # fmt: skip
        """Raises: PromoExists."""
        values = {"code": code, "stars": stars, "uses": uses, "used": 0,
                  "expires_at": expires_at, "new_users_only": new_users_only,
                  "disabled": False, "created_at": datetime.now(UTC)}  # fmt: skip
        try:
            async with self._db.transaction() as conn:
                await conn.execute(promo_codes.insert().values(**values))
        except IntegrityError:
            raise PromoExists(code) from None
        return await self.get(code)

    async def get(self, code: str) -> PromoRecord:
        """Raises: PromoNotFound."""
        async with self._db.transaction(readonly=True) as conn:
            promo = await _find(conn, code)
        if promo is None:
            raise PromoNotFound(code)
        return promo

    async def find(self) -> list[PromoRecord]:
        """Every code, newest first."""
        statement = select(promo_codes).order_by(promo_codes.c.created_at.desc())
        async with self._db.transaction(readonly=True) as conn:
            return [_record(row) for row in await conn.execute(statement)]

    async def disable(self, code: str) -> PromoRecord:
        """Raises: PromoNotFound."""
        async with self._db.transaction() as conn:
            await conn.execute(
                update(promo_codes).where(promo_codes.c.code == code).values(disabled=True)
            )
        return await self.get(code)

    async def redeem(self, code: str, user_id: TgUserId) -> Redemption:
        """Credit the code's Stars to the user once. Raises: PromoRefused, UserNotFound."""
        now = datetime.now(UTC)
        async with self._db.transaction() as conn:
            joined = await _joined(conn, user_id)
            if await _find(conn, code) is None:
                raise PromoRefused(code, PromoRefusal.UNKNOWN)
            if not await _claim_redemption(conn, code, user_id, now):
                raise PromoRefused(code, PromoRefusal.ALREADY_USED)
            promo = await _take_use(conn, code, now)
            if promo is None:
                raise PromoRefused(code, await _why_refused(conn, code, now))
            if promo.new_users_only and joined < promo.created_at:
                raise PromoRefused(code, PromoRefusal.NOT_NEW)
            result = await apply_in(conn, credit_movement(
                user_id, promo.stars, kind=LedgerKind.BONUS, key=f"bonus:promo:{code}:{user_id}",
                reason=f"promo code {code}",
            ))  # fmt: skip
            assert result is not None, "the redemption row makes the key unique"
            return Redemption(code, promo.stars, result.balance)


async def _joined(conn: AsyncConnection, user_id: TgUserId) -> datetime:
    statement = select(users.c.created_at).where(users.c.id == user_id)
    joined: datetime | None = (await conn.execute(statement)).scalar_one_or_none()
    if joined is None:
        raise UserNotFound(user_id)
    return joined


async def _claim_redemption(
    conn: AsyncConnection, code: str, user_id: TgUserId, now: datetime
) -> bool:
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(promo_redemptions)
        .values(code=code, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["code", "user_id"])
    )
    # A racing redemption by the same user waits here for the first one to finish.
    return bool((await conn.execute(statement)).rowcount == 1)


async def _take_use(conn: AsyncConnection, code: str, now: datetime) -> PromoRecord | None:
    """The guarded increment: passes only for an enabled, unexpired code with uses left."""
    row = (
        await conn.execute(
            update(promo_codes)
            .where(promo_codes.c.code == code)
            .where(promo_codes.c.disabled.is_(False))
            .where(or_(promo_codes.c.uses.is_(None), promo_codes.c.used < promo_codes.c.uses))
            .where(or_(promo_codes.c.expires_at.is_(None), promo_codes.c.expires_at > now))
            .values(used=promo_codes.c.used + 1)
            .returning(*promo_codes.c)
        )
    ).one_or_none()
    return None if row is None else _record(row)


async def _why_refused(conn: AsyncConnection, code: str, now: datetime) -> PromoRefusal:
    promo = await _find(conn, code)
    if promo is None:
        return PromoRefusal.UNKNOWN
    if promo.disabled:
        return PromoRefusal.DISABLED
    if promo.expires_at is not None and promo.expires_at <= now:
        return PromoRefusal.EXPIRED
    return PromoRefusal.EXHAUSTED


async def _find(conn: AsyncConnection, code: str) -> PromoRecord | None:
    row = (await conn.execute(select(promo_codes).where(promo_codes.c.code == code))).first()
    return None if row is None else _record(row)


def _record(row: Row[Any]) -> PromoRecord:
    return PromoRecord(**row._asdict())
