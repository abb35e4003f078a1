from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trt.domain import LedgerKind, TgUserId
from trt.records import NewPayment
from trt.store.sql import SqlStore
from trt.store.stats import summary

USER = TgUserId(31)


class TestSummary:
    async def test_paid_stars_are_apart_from_given_ones(self, store: SqlStore) -> None:
        """Paid counts top-ups less refunded ones; grants and each bonus are counted apart
        (they were given, not paid: 330 shown as income where 50 was paid)."""
        await store.users.ensure(USER)
        await store.ledger.credit(USER, 5, kind=LedgerKind.GRANT, key="grant:s", reason="")
        for key, amount in (("welcome:31", 7), ("promo:X:31", 11), ("free:31:d:1", 3)):
            await store.ledger.credit(
                USER, amount, kind=LedgerKind.BONUS, key=f"bonus:{key}", reason=""
            )
        for charge in ("c1", "c2"):
            await store.payments.record(
                NewPayment(charge, None, USER, 100, "XTR", payload=f"p-{charge}", bonus=4)
            )
        await store.payments.reverse("c2", reason="asked", force=False)
        since = datetime.now(UTC) - timedelta(hours=1)
        given = (await summary(store.db, since)).credits
        assert (given.paid, given.grants, given.welcome, given.promo, given.free) == (
            96, 5, 7, 11, 3,
        )  # fmt: skip
        assert (given.package, given.referral, given.refunds) == (8, 0, 0)
        assert given.given == 5 + 7 + 11 + 3 + 8

    async def test_support_debits_come_off_the_grants(self, store: SqlStore) -> None:
        """A debit takes back Stars that were given (a grant made twice): given shrinks."""
        await store.users.ensure(USER)
        for key in ("grant:a", "grant:b"):
            await store.ledger.credit(USER, 20, kind=LedgerKind.GRANT, key=key, reason="")
        await store.ledger.debit(USER, 20, key="debit:twice", reason="granted twice")
        since = datetime.now(UTC) - timedelta(hours=1)
        given = (await summary(store.db, since)).credits
        assert (given.grants, given.given) == (20, 20)
