from __future__ import annotations

import asyncio

import pytest

from trt.domain import JobId, LedgerKind, PaymentStatus, TgUserId
from trt.errors import AlreadyRefunded, PaymentNotFound, RefundExceedsBalance, RefundFailed
from trt.records import NewPayment, PaymentRecord
from trt.store.sql import SqlStore

ANN = TgUserId(501)
BEN = TgUserId(502)


def paid(charge: str = "ch-1", amount: int = 100, bonus: int = 0, user: TgUserId = ANN):
    return NewPayment(charge, f"p-{charge}", user, amount, "XTR", f"t1:{charge}", bonus=bonus)


@pytest.fixture
async def ann(store: SqlStore) -> SqlStore:
    await store.users.ensure(ANN)
    await store.users.ensure(BEN)
    return store


async def topups(store: SqlStore, user: TgUserId = ANN) -> list[str]:
    return [e.key for e in await store.ledger.entries(user_id=user) if e.kind != LedgerKind.HOLD]


class TestRecord:
    async def test_payment_credits_amount_and_bonus(self, ann: SqlStore) -> None:
        """A paid top-up credits its amount and its package bonus under the charge's keys."""
        result = await ann.payments.record(paid(amount=250, bonus=12))
        assert (result.applied, result.balance) == (True, 262)
        assert sorted(await topups(ann)) == ["bonus:topup:ch-1", "topup:ch-1"]
        assert await ann.ledger.invariant_violations() == []

    async def test_repeated_update_credits_once(self, ann: SqlStore) -> None:
        """The same charge recorded twice moves Stars once; the second says nothing moved."""
        await ann.payments.record(paid())
        again = await ann.payments.record(paid())
        assert (again.applied, again.balance) == (False, 100)
        assert (await ann.users.get(ANN)).balance == 100

    async def test_concurrent_updates_credit_once(self, ann: SqlStore) -> None:
        """Twenty instances recording the same charge at once credit it exactly once."""
        results = await asyncio.gather(*(ann.payments.record(paid()) for _ in range(20)))
        assert sum(r.applied for r in results) == 1
        assert (await ann.users.get(ANN)).balance == 100
        assert await ann.ledger.invariant_violations() == []

    async def test_rejected_payment_credits_nothing(self, ann: SqlStore) -> None:
        """A rejected payment is kept for the record but moves no Stars."""
        new = NewPayment("ch-x", None, ANN, 50, "XTR", "forged", status=PaymentStatus.REJECTED)
        result = await ann.payments.record(new)
        assert (result.payment.status, result.balance) == (PaymentStatus.REJECTED, 0)
        assert await topups(ann) == []

    async def test_replayed_payload_is_known(self, ann: SqlStore) -> None:
        """A payload is reported used once a payment carried it."""
        assert await ann.payments.payload_used("t1:ch-1") is False
        await ann.payments.record(paid())
        assert await ann.payments.payload_used("t1:ch-1") is True


class TestReverse:
    async def test_refund_takes_amount_and_bonus_back(self, ann: SqlStore) -> None:
        """A refund reverses the top-up and its bonus and marks the payment refunded."""
        await ann.payments.record(paid(amount=250, bonus=12))
        result = await ann.payments.reverse("ch-1", reason="asked", force=False)
        assert (result.balance, result.payment.status) == (0, PaymentStatus.REFUNDED)
        assert (result.payment.reversed_stars, result.payment.shortfall) == (262, 0)
        assert await ann.ledger.invariant_violations() == []

    async def test_spent_stars_refuse_the_refund(self, ann: SqlStore) -> None:
        """Without force a refund that would overdraw is refused and nothing changes."""
        await ann.payments.record(paid())
        await ann.ledger.hold(ANN, JobId("J1"), 70)
        with pytest.raises(RefundExceedsBalance, match="30 ⭐"):
            await ann.payments.reverse("ch-1", reason="asked", force=False)
        assert (await ann.payments.get("ch-1")).status is PaymentStatus.PAID
        assert (await ann.users.get(ANN)).balance == 30

    async def test_forced_refund_stops_at_zero_and_records_the_shortfall(self, ann: SqlStore):
        """With force the balance goes to zero, never below, and the rest is the shortfall."""
        await ann.payments.record(paid())
        await ann.ledger.hold(ANN, JobId("J1"), 70)
        result = await ann.payments.reverse("ch-1", reason="fraud", force=True)
        assert (result.balance, result.payment.reversed_stars, result.payment.shortfall) == (
            0, 30, 70,
        )  # fmt: skip
        assert (await ann.users.get(ANN)).held == 70
        assert await ann.ledger.invariant_violations() == []

    async def test_second_refund_is_refused(self, ann: SqlStore) -> None:
        """A payment refunds once; the second attempt moves nothing."""
        await ann.payments.record(paid())
        await ann.payments.reverse("ch-1", reason="asked", force=False)
        with pytest.raises(AlreadyRefunded):
            await ann.payments.reverse("ch-1", reason="asked", force=True)
        assert (await ann.users.get(ANN)).balance == 0

    async def test_concurrent_refunds_reverse_once(self, ann: SqlStore) -> None:
        """Two refunds of one charge at once: one reverses, the other is refused."""
        await ann.payments.record(paid())
        await ann.payments.record(paid("ch-2"))
        outcomes = await asyncio.gather(
            *(ann.payments.reverse("ch-1", reason="r", force=False) for _ in range(5)),
            return_exceptions=True,
        )
        assert sum(not isinstance(o, Exception) for o in outcomes) == 1
        assert all(isinstance(o, AlreadyRefunded) for o in outcomes if isinstance(o, Exception))
        assert (await ann.users.get(ANN)).balance == 100

    async def test_unknown_charge_is_not_found(self, ann: SqlStore) -> None:
        """Refunding a charge that was never recorded names it."""
        with pytest.raises(PaymentNotFound, match="nope"):
            await ann.payments.reverse("nope", reason="r", force=False)

    async def test_failed_confirmation_undoes_the_reversal(self, ann: SqlStore) -> None:
        """When Telegram refuses the refund, the payment and the balance stay as they were."""
        await ann.payments.record(paid())

        async def refuse(_: PaymentRecord) -> None:
            raise RefundFailed("CHARGE_NOT_FOUND")

        with pytest.raises(RefundFailed):
            await ann.payments.reverse("ch-1", reason="r", force=False, confirm=refuse)
        assert (await ann.payments.get("ch-1")).status is PaymentStatus.PAID
        assert (await ann.users.get(ANN)).balance == 100
        assert await topups(ann) == ["topup:ch-1"]


class TestFind:
    async def test_lists_newest_first_and_by_user(self, ann: SqlStore) -> None:
        """Payments list newest first and filter by user."""
        await ann.payments.record(paid("a"))
        await ann.payments.record(paid("b", user=BEN))
        await ann.payments.record(paid("c"))
        assert [p.telegram_payment_charge_id for p in await ann.payments.find()] == ["c", "b", "a"]
        mine = await ann.payments.find(user_id=ANN)
        assert [p.telegram_payment_charge_id for p in mine] == ["c", "a"]
