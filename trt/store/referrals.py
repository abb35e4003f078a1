"""Referrals: who brought whom, bound once per referred user (the primary key), and the
bonus both sides get with the referred user's first top-up, paid once through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import LedgerKind, TgUserId
from trt.records import ReferralStats
from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.ledger import apply_in, credit_movement
from trt.store.tables import referrals


class SqlReferrals:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def bind(self, referred: TgUserId, referrer: TgUserId) -> bool:
        """Bind `referred` to `referrer` unless already bound; False for a self-referral,
        an unknown referrer or an existing binding."""
        if referred == referrer:
            return False
        values = {"referred_id": referred, "referrer_id": referrer,
                  "created_at": datetime.now(UTC), "rewarded_at": None}  # fmt: skip
        try:
            async with self._db.transaction() as conn:
                inserted = await conn.execute(
                    insert_or_ignore(conn, referrals, values, key="referred_id")
                )
        except IntegrityError:  # the referrer never started the bot
            return False
        return inserted.rowcount == 1

    async def referrer_of(self, referred: TgUserId) -> TgUserId | None:
        statement = select(referrals.c.referrer_id).where(referrals.c.referred_id == referred)
        async with self._db.transaction(readonly=True) as conn:
            value = (await conn.execute(statement)).scalar_one_or_none()
        return None if value is None else TgUserId(value)

    async def stats(self, referrer: TgUserId) -> ReferralStats:
        statement = select(func.count(), func.count(referrals.c.rewarded_at)).where(
            referrals.c.referrer_id == referrer
        )
        async with self._db.transaction(readonly=True) as conn:
            joined, paid = (await conn.execute(statement)).one()
        return ReferralStats(int(joined), int(paid))


async def reward_in(conn: AsyncConnection, referred: TgUserId, bonus: int) -> bool:
    """Inside a top-up's transaction: the first one of a referred user pays both sides
    `bonus` Stars. The guarded UPDATE makes it once per referred user."""
    if bonus <= 0:
        return False
    claimed = (
        await conn.execute(
            update(referrals)
            .where(referrals.c.referred_id == referred)
            .where(referrals.c.rewarded_at.is_(None))
            .values(rewarded_at=datetime.now(UTC))
            .returning(referrals.c.referrer_id)
        )
    ).scalar_one_or_none()
    if claimed is None:
        return False
    for user, side in ((TgUserId(claimed), "referrer"), (referred, "referred")):
        await apply_in(conn, credit_movement(
            user, bonus, kind=LedgerKind.BONUS, key=f"bonus:referral:{referred}:{side}",
            reason=f"referral bonus ({side}) for user {referred}",
        ))  # fmt: skip
    return True
