from __future__ import annotations

import asyncio

from trt.domain import JobId, LedgerKind, TgUserId
from trt.errors import InsufficientBalance
from trt.store.sql import SqlStore

USER = TgUserId(42)


class TestConcurrentHolds:
    async def test_200_holds_against_100_stars(self, store: SqlStore) -> None:
        """200 concurrent 1-Star holds on a 100-Star balance: exactly 100 succeed."""
        await store.users.ensure(USER)
        await store.ledger.credit(USER, 100, kind=LedgerKind.TOPUP, key="topup:c1", reason="t")

        async def hold(n: int) -> bool:
            try:
                await store.ledger.hold(USER, JobId(f"J{n}"), 1)
            except InsufficientBalance:
                return False
            return True

        outcomes = await asyncio.gather(*(hold(n) for n in range(200)))
        assert sum(outcomes) == 100
        user = await store.users.get(USER)
        assert (user.balance, user.held) == (0, 100)
        assert await store.ledger.invariant_violations() == []

    async def test_same_key_raced_moves_money_once(self, store: SqlStore) -> None:
        """Twenty concurrent top-ups with one payment key credit the balance once."""
        await store.users.ensure(USER)
        results = await asyncio.gather(
            *(
                store.ledger.credit(USER, 50, kind=LedgerKind.TOPUP, key="topup:same", reason="")
                for _ in range(20)
            )
        )
        assert sum(r.applied for r in results) == 1
        assert (await store.users.get(USER)).balance == 50

    async def test_charge_and_release_race_settles_once(self, store: SqlStore) -> None:
        """A charge racing a release of the same job: exactly one of them lands."""
        await store.users.ensure(USER)
        await store.ledger.credit(USER, 100, kind=LedgerKind.TOPUP, key="topup:c1", reason="t")
        for n in range(10):
            await store.ledger.hold(USER, JobId(f"J{n}"), 5)
        outcomes = await asyncio.gather(
            *(store.ledger.charge(JobId(f"J{n}")) for n in range(10)),
            *(store.ledger.release(JobId(f"J{n}")) for n in range(10)),
            return_exceptions=True,
        )
        landed = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(landed) == 10
        user = await store.users.get(USER)
        assert user.held == 0
        assert await store.ledger.invariant_violations() == []
