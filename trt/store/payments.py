"""Stars payments: each payment row and its ledger credit are written in one transaction.

The row is keyed by Telegram's `telegram_payment_charge_id` and the credit by
`topup:<charge id>`, so a repeated or concurrent successful_payment credits once. A refund
marks the row and takes the Stars back in one transaction too; the caller's Telegram call
runs last inside it, so a refused refundStarPayment undoes the reversal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import LedgerKind, PaymentStatus, TgUserId
from trt.errors import AlreadyRefunded, PaymentNotFound, RefundExceedsBalance
from trt.records import Confirm, NewPayment, PaymentRecord, PaymentResult
from trt.store import referrals
from trt.store.dialect import insert_or_ignore
from trt.store.engine import EXPORT_BATCH, Database
from trt.store.ledger import Movement, apply_in, credit_movement
from trt.store.tables import payments, users

# Called with the refunded row before the refund commits (Telegram's refundStarPayment).


class SqlPayments:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, new: NewPayment, *, referral_bonus: int = 0) -> PaymentResult:
        """Record a payment and, when it is PAID, credit amount + bonus (and the referral
        bonuses of a first top-up) in the same transaction. Raises: UserNotFound."""
        async with self._db.transaction() as conn:
            inserted = await conn.execute(
                insert_or_ignore(conn, payments, _row(new), key="telegram_payment_charge_id")
            )
            payment = await _find(conn, new.charge_id)
            assert payment is not None
            if inserted.rowcount == 0 or new.status is not PaymentStatus.PAID:
                return PaymentResult(payment, inserted.rowcount == 1, await _balance(conn, new))
            await _credit(conn, new)
            bonus = await referrals.reward_in(conn, new.user_id, referral_bonus, new.charge_id)
            return PaymentResult(payment, True, await _balance(conn, new), bonus)

    async def reverse(
        self, charge_id: str, *, reason: str, force: bool, confirm: Confirm | None = None
    ) -> PaymentResult:
        """Mark a payment refunded and take its Stars back off the balance.

        Without `force` the Stars must still be on the balance; with it, what is there is
        taken (never below zero) and the rest is recorded as the shortfall.
        Raises: PaymentNotFound, AlreadyRefunded, RefundExceedsBalance, and whatever
        `confirm` raises (then nothing is changed).
        """
        async with self._db.transaction() as conn:
            payment = await _find(conn, charge_id, lock=True)
            if payment is None:
                raise PaymentNotFound(charge_id)
            if payment.status is PaymentStatus.REFUNDED:
                raise AlreadyRefunded(charge_id)
            paid = payment.amount + payment.bonus if payment.status is PaymentStatus.PAID else 0
            reward = await referrals.reward_paid_by(conn, payment.user_id, charge_id)
            owed = paid + (reward.referred_bonus if reward is not None else 0)
            balance = await _locked_balance(conn, payment.user_id)
            if owed > balance and not force:
                raise RefundExceedsBalance(charge_id, owed, balance)
            taken = min(owed, balance)
            if min(taken, paid):
                await apply_in(conn, _refund_movement(payment, min(taken, paid), reason))
            if reward is not None:  # the referral bonuses this top-up paid go with it
                await referrals.revoke_in(conn, reward, referred_taken=taken - min(taken, paid))
            await _mark_refunded(conn, payment, taken, owed - taken, reason)
            refunded = await _find(conn, charge_id)
            assert refunded is not None
            if confirm is not None:
                await confirm(refunded)
            return PaymentResult(refunded, True, balance - taken)

    async def get(self, charge_id: str) -> PaymentRecord:
        """Raises: PaymentNotFound."""
        async with self._db.transaction(readonly=True) as conn:
            payment = await _find(conn, charge_id)
        if payment is None:
            raise PaymentNotFound(charge_id)
        return payment

    async def find(
        self, *, user_id: TgUserId | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[PaymentRecord]:
        """Newest first."""
        statement = select(payments).order_by(payments.c.id.desc()).limit(limit)
        if user_id is not None:
            statement = statement.where(payments.c.user_id == user_id)
        if since is not None:
            statement = statement.where(payments.c.created_at >= since)
        async with self._db.transaction(readonly=True) as conn:
            return [_record(row) for row in await conn.execute(statement)]

    async def export(self, *, since: datetime | None = None) -> AsyncIterator[PaymentRecord]:
        """Every payment (made since `since`), oldest first, read in batches as consumed."""
        statement = select(payments).order_by(payments.c.id)
        if since is not None:
            statement = statement.where(payments.c.created_at >= since)
        async with self._db.transaction(readonly=True) as conn:
            rows = await conn.stream(statement.execution_options(yield_per=EXPORT_BATCH))
            async for row in rows:
                yield _record(row)

    async def payload_used(self, payload: str) -> bool:
        """Whether an invoice with this payload was paid already (a replay)."""
        statement = select(payments.c.id).where(payments.c.payload == payload).limit(1)
        async with self._db.transaction(readonly=True) as conn:
            return (await conn.execute(statement)).first() is not None


def _row(new: NewPayment) -> dict[str, Any]:
    return {
        "telegram_payment_charge_id": new.charge_id,
        "provider_payment_charge_id": new.provider_charge_id, "user_id": new.user_id,
        "amount": new.amount, "bonus": new.bonus, "currency": new.currency,
        "payload": new.payload, "status": new.status.value, "note": new.note,
        "created_at": datetime.now(UTC), "reversed_stars": 0, "shortfall": 0,
    }  # fmt: skip


async def _credit(conn: AsyncConnection, new: NewPayment) -> None:
    charge, user = new.charge_id, new.user_id
    reason = f"Telegram Stars payment {charge}"
    await apply_in(conn, credit_movement(
        user, new.amount, kind=LedgerKind.TOPUP, key=f"topup:{charge}", reason=reason
    ))  # fmt: skip
    if new.bonus > 0:
        await apply_in(conn, credit_movement(
            user, new.bonus, kind=LedgerKind.BONUS, key=f"bonus:topup:{charge}",
            reason=f"package bonus for {charge}",
        ))  # fmt: skip


def _refund_movement(payment: PaymentRecord, taken: int, reason: str) -> Movement:
    key = f"topup_refund:{payment.telegram_payment_charge_id}"
    return Movement(payment.user_id, LedgerKind.TOPUP_REFUND, taken, -taken, 0, key, None, reason)


async def _mark_refunded(
    conn: AsyncConnection, payment: PaymentRecord, taken: int, shortfall: int, reason: str
) -> None:
    await conn.execute(
        update(payments)
        .where(payments.c.id == payment.id)
        .values(
            status=PaymentStatus.REFUNDED.value,
            refunded_at=datetime.now(UTC),
            reversed_stars=taken,
            shortfall=shortfall,
            note=reason,
        )  # fmt: skip
    )


async def _balance(conn: AsyncConnection, new: NewPayment) -> int:
    statement = select(users.c.balance).where(users.c.id == new.user_id)
    return int((await conn.execute(statement)).scalar_one())


async def _locked_balance(conn: AsyncConnection, user_id: int) -> int:
    # FOR UPDATE (Postgres; SQLite's write lock covers it) so no hold slips in between.
    statement = select(users.c.balance).where(users.c.id == user_id).with_for_update()
    return int((await conn.execute(statement)).scalar_one())


async def _find(
    conn: AsyncConnection, charge_id: str, *, lock: bool = False
) -> PaymentRecord | None:
    statement = select(payments).where(payments.c.telegram_payment_charge_id == charge_id)
    if lock:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).one_or_none()
    return None if row is None else _record(row)


def _record(row: Row[Any]) -> PaymentRecord:
    values = row._asdict()
    values["user_id"] = TgUserId(values["user_id"])
    values["status"] = PaymentStatus(values["status"])
    return PaymentRecord(**values)
