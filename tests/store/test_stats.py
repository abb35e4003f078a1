from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trt.domain import LedgerKind, TgUserId
from trt.records import NewPayment
from trt.store.sql import SqlStore
from trt.store.stats import summary

USER = TgUserId(31)


class TestSummary:
    async def test_refunded_topups_do_not_count_as_stars_in(self, store: SqlStore) -> None:
        """Stars in counts credits of every kind, less top-ups given back."""
        await store.users.ensure(USER)
        await store.ledger.credit(USER, 5, kind=LedgerKind.GRANT, key="grant:s", reason="")
        for charge in ("c1", "c2"):
            await store.payments.record(
                NewPayment(charge, None, USER, 100, "XTR", payload=f"p-{charge}")
            )
        await store.payments.reverse("c2", reason="asked", force=False)
        since = datetime.now(UTC) - timedelta(hours=1)
        assert (await summary(store.db, since)).stars_in == 105
