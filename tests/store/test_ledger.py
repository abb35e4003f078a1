from __future__ import annotations

import pytest
from sqlalchemy import text

from trt.domain import STARS_LIMIT, JobId, LedgerKind, TgUserId
from trt.errors import InsufficientBalance, LedgerConflict, UsageError, UserNotFound
from trt.store.sql import SqlStore

ALICE, BOB = TgUserId(1001), TgUserId(1002)


async def funded(store: SqlStore, amount: int = 100) -> None:
    await store.users.ensure(ALICE, username="alice")
    await store.ledger.credit(ALICE, amount, kind=LedgerKind.GRANT, key="grant:seed", reason="t")


class TestCredit:
    async def test_credit_adds_to_balance(self, store: SqlStore) -> None:
        """A grant raises the balance by its amount and records one ledger row."""
        await funded(store, 40)
        user = await store.users.get(ALICE)
        assert (user.balance, user.held) == (40, 0)
        entries = await store.ledger.entries(user_id=ALICE)
        assert [(e.kind, e.amount, e.key) for e in entries] == [
            (LedgerKind.GRANT, 40, "grant:seed")
        ]

    async def test_repeated_key_is_a_noop_returning_the_first_result(self, store: SqlStore):
        """Repeating an idempotency key moves nothing and returns the first movement."""
        await funded(store, 40)
        again = await store.ledger.credit(
            ALICE, 999, kind=LedgerKind.GRANT, key="grant:seed", reason="again"
        )
        assert not again.applied
        assert (again.entry.amount, again.balance) == (40, 40)
        assert len(await store.ledger.entries(user_id=ALICE)) == 1

    async def test_unknown_user_is_not_found(self, store: SqlStore) -> None:
        """Crediting a user who never contacted the bot fails and writes nothing."""
        with pytest.raises(UserNotFound):
            await store.ledger.credit(
                TgUserId(5), 1, kind=LedgerKind.GRANT, key="grant:x", reason="t"
            )
        assert await store.ledger.entries() == []

    @pytest.mark.parametrize("amount", [STARS_LIMIT + 1, 2**63, 2**64])
    async def test_an_amount_past_the_column_is_refused(self, store: SqlStore, amount: int):
        """An amount no 32-bit column holds is a usage error, not a driver overflow."""
        await funded(store)
        with pytest.raises(UsageError, match="amount"):
            await store.ledger.credit(ALICE, amount, kind=LedgerKind.GRANT, key="k", reason="")

    async def test_a_credit_past_the_largest_balance_is_refused(self, store: SqlStore) -> None:
        """On both stores (Postgres' INTEGER overflows there), a credit that would take a
        balance past 2^31 - 1 is a LedgerConflict and moves nothing; up to it is fine."""
        await funded(store, 100)
        with pytest.raises(LedgerConflict, match="more than 2147483647"):
            await store.ledger.credit(
                ALICE, STARS_LIMIT, kind=LedgerKind.GRANT, key="grant:big", reason="t"
            )
        user = await store.users.get(ALICE)
        assert (user.balance, len(await store.ledger.entries(user_id=ALICE))) == (100, 1)
        await store.ledger.credit(
            ALICE, STARS_LIMIT - 100, kind=LedgerKind.GRANT, key="grant:top", reason="t"
        )
        assert (await store.users.get(ALICE)).balance == STARS_LIMIT

    @pytest.mark.parametrize("amount", [0, -5])
    async def test_non_positive_amount_is_refused(self, store: SqlStore, amount: int) -> None:
        """Zero and negative amounts are usage errors naming the amount."""
        await funded(store)
        with pytest.raises(UsageError, match="amount"):
            await store.ledger.credit(ALICE, amount, kind=LedgerKind.GRANT, key="k", reason="")


class TestHoldAndSettle:
    async def test_hold_moves_balance_to_held(self, store: SqlStore) -> None:
        """A hold takes the price from the balance into held."""
        await funded(store)
        result = await store.ledger.hold(ALICE, JobId("J1"), 30)
        assert (result.balance, result.held, result.entry.key) == (70, 30, "hold:J1")

    async def test_hold_beyond_balance_is_refused(self, store: SqlStore) -> None:
        """A hold larger than the balance fails with the shortfall and moves nothing."""
        await funded(store, 10)
        with pytest.raises(InsufficientBalance) as caught:
            await store.ledger.hold(ALICE, JobId("J1"), 11)
        assert (caught.value.needed, caught.value.available) == (11, 10)
        user = await store.users.get(ALICE)
        assert (user.balance, user.held) == (10, 0)
        assert len(await store.ledger.entries(user_id=ALICE)) == 1

    async def test_charge_spends_the_hold(self, store: SqlStore) -> None:
        """Charging a job turns exactly its hold into spent Stars."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        result = await store.ledger.charge(JobId("J1"))
        assert (result.balance, result.held, result.entry.amount) == (70, 0, 30)

    async def test_release_returns_the_hold(self, store: SqlStore) -> None:
        """Releasing a job returns its hold to the balance."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        result = await store.ledger.release(JobId("J1"))
        assert (result.balance, result.held) == (100, 0)

    async def test_charge_after_release_is_a_conflict(self, store: SqlStore) -> None:
        """A job settled one way cannot be settled the other way."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        await store.ledger.hold(ALICE, JobId("J2"), 30)
        await store.ledger.release(JobId("J1"))
        with pytest.raises(LedgerConflict):
            await store.ledger.charge(JobId("J1"))
        user = await store.users.get(ALICE)
        assert (user.balance, user.held) == (70, 30)

    async def test_charge_without_hold_is_a_conflict(self, store: SqlStore) -> None:
        """Charging a job that holds nothing fails and writes nothing."""
        await funded(store)
        with pytest.raises(LedgerConflict, match="no hold"):
            await store.ledger.charge(JobId("nope"))

    async def test_repeated_charge_is_a_noop(self, store: SqlStore) -> None:
        """Charging the same job twice spends its Stars once."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        await store.ledger.charge(JobId("J1"))
        again = await store.ledger.charge(JobId("J1"))
        assert not again.applied
        assert (again.balance, again.held) == (70, 0)

    async def test_refund_returns_a_charged_job_once(self, store: SqlStore) -> None:
        """A refund gives back the charged amount, and only once."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        await store.ledger.charge(JobId("J1"))
        first = await store.ledger.refund(JobId("J1"), reason="bad result")
        second = await store.ledger.refund(JobId("J1"), reason="bad result")
        assert (first.applied, second.applied, second.balance) == (True, False, 100)

    async def test_refund_of_uncharged_job_is_a_conflict(self, store: SqlStore) -> None:
        """Only a charged job can be refunded."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        with pytest.raises(LedgerConflict):
            await store.ledger.refund(JobId("J1"), reason="x")

    async def test_invariant_holds_after_movements(self, store: SqlStore) -> None:
        """Balances always equal the sum of the user's ledger rows."""
        await funded(store)
        await store.ledger.hold(ALICE, JobId("J1"), 30)
        await store.ledger.charge(JobId("J1"))
        await store.ledger.hold(ALICE, JobId("J2"), 20)
        assert await store.ledger.invariant_violations() == []

    async def test_a_balance_changed_behind_the_ledger_is_named(self, store: SqlStore):
        """A balance edited without a ledger row is reported with its user, and only that user."""
        await funded(store)
        await store.users.ensure(BOB)
        async with store.db.transaction() as conn:
            await conn.execute(text("UPDATE users SET balance = balance + 5 WHERE id = :u"),
                               {"u": ALICE})  # fmt: skip
        assert await store.ledger.invariant_violations() == [
            f"user {ALICE}: balance 105/held 0 but ledger says 100/0"
        ]
