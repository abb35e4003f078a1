"""Referrals: who brought whom, bound once per referred user (the primary key), and the
bonus both sides get with the referred user's first top-up, paid once through the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import LedgerKind, TgUserId
from trt.records import ReferralStats
from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.ledger import Movement, apply_in, credit_movement
from trt.store.tables import ledger_entries, referrals, users

logger = logging.getLogger(__name__)


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


async def reward_in(conn: AsyncConnection, referred: TgUserId, bonus: int, charge: str) -> int:
    """Inside a top-up's transaction: the first one of a referred user pays both sides
    `bonus` Stars (0 when there is nothing to pay). The guarded UPDATE makes it once per
    referred user; the row remembers the top-up, whose refund takes the bonuses back."""
    if bonus <= 0:
        return 0
    claimed = (
        await conn.execute(
            update(referrals)
            .where(referrals.c.referred_id == referred)
            .where(referrals.c.rewarded_at.is_(None))
            .values(rewarded_at=datetime.now(UTC), reward_charge_id=charge)
            .returning(referrals.c.referrer_id)
        )
    ).scalar_one_or_none()
    if claimed is None:
        return 0
    for user, side in ((TgUserId(claimed), "referrer"), (referred, "referred")):
        await apply_in(conn, credit_movement(
            user, bonus, kind=LedgerKind.BONUS, key=_bonus_key(referred, side, charge),
            reason=f"referral bonus ({side}) for user {referred}, top-up {charge}",
        ))  # fmt: skip
    logger.info("referral bonus %s ⭐ each to %s and %s (top-up %s)", bonus, claimed, referred,
                charge)  # fmt: skip
    return bonus


@dataclass(frozen=True)
class Reward:
    """Referral bonuses a top-up paid: what each side got."""

    referrer: TgUserId
    referred: TgUserId
    charge: str
    referrer_bonus: int
    referred_bonus: int


async def reward_paid_by(conn: AsyncConnection, referred: TgUserId, charge: str) -> Reward | None:
    """The bonuses top-up `charge` of `referred` paid, if it paid any (locks the row)."""
    row = (
        await conn.execute(
            select(referrals.c.referrer_id)
            .where(referrals.c.referred_id == referred)
            .where(referrals.c.reward_charge_id == charge)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        return None
    amounts = {side: await _amount(conn, _bonus_key(referred, side, charge))
               for side in ("referrer", "referred")}  # fmt: skip
    return Reward(TgUserId(row[0]), referred, charge, amounts["referrer"], amounts["referred"])


async def revoke_in(conn: AsyncConnection, reward: Reward, *, referred_taken: int) -> int:
    """Inside the refund's transaction: take the bonuses back (`referred_taken` of the
    referred user's, as the refund's balance check allowed; of the referrer's what their
    balance holds) and free the referral for a later, real first top-up. Returns what the
    referrer could not give back (spent already)."""
    referrer_balance = await _locked_balance(conn, reward.referrer)
    referrer_taken = min(reward.referrer_bonus, referrer_balance)
    taken = ((reward.referrer, "referrer", referrer_taken),
             (reward.referred, "referred", referred_taken))  # fmt: skip
    for user, side, amount in taken:
        if amount > 0:
            await apply_in(conn, Movement(
                user, LedgerKind.BONUS_REVOKED, amount, -amount, 0,
                f"bonus_revoked:referral:{reward.referred}:{side}:{reward.charge}", None,
                f"referral bonus ({side}) taken back: top-up {reward.charge} refunded",
            ))  # fmt: skip
    await conn.execute(
        update(referrals)
        .where(referrals.c.referred_id == reward.referred)
        .values(rewarded_at=None, reward_charge_id=None)
    )
    shortfall = reward.referrer_bonus - referrer_taken
    logger.info(
        "referral bonuses of top-up %s taken back: %s ⭐ from %s (short %s), %s ⭐ from %s",
        reward.charge, referrer_taken, reward.referrer, shortfall, referred_taken, reward.referred,
    )  # fmt: skip
    return shortfall


def _bonus_key(referred: TgUserId, side: str, charge: str) -> str:
    return f"bonus:referral:{referred}:{side}:{charge}"


async def _amount(conn: AsyncConnection, key: str) -> int:
    statement = select(ledger_entries.c.amount).where(ledger_entries.c.key == key)
    return int((await conn.execute(statement)).scalar_one_or_none() or 0)


async def _locked_balance(conn: AsyncConnection, user_id: int) -> int:
    statement = select(users.c.balance).where(users.c.id == user_id).with_for_update()
    return int((await conn.execute(statement)).scalar_one())
