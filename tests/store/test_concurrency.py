from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from trt.domain import JobId, LedgerKind, TgUserId
from trt.errors import InsufficientBalance
from trt.records import Arrival, Pending
from trt.store.sql import SqlStore

USER = TgUserId(42)
LEASE = timedelta(minutes=1)


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


def arrivals(count: int, *, user: int | None = None) -> list[Arrival]:
    return [Arrival(n, {"update_id": n, "message": {"text": f"m{n}"}}, user) for n in range(count)]


class TestConcurrentInbox:
    async def test_raced_claims_give_each_update_to_one_worker(self, store: SqlStore) -> None:
        """Ten workers race to claim each of 30 stored updates: every update is claimed by
        exactly one of them (two instances recovering the same backlog)."""
        stored = await store.inbox.record_many(arrivals(30))
        pending = [p for p in stored if isinstance(p, Pending)]

        async def race(p: Pending) -> int:
            claims = await asyncio.gather(
                *(store.inbox.claim(p.seq, owner=f"w{n}", lease=LEASE) for n in range(10))
            )
            return sum(c is not None for c in claims)

        assert await asyncio.gather(*(race(p) for p in pending)) == [1] * 30

    async def test_overlapping_batches_store_each_update_once(self, store: SqlStore) -> None:
        """Six batches of the same 40 deliveries in different orders, stored at once (retries
        reaching two instances): each update is new in exactly one batch, none fails."""
        batches = [arrivals(40) for _ in range(6)]
        for n, batch in enumerate(batches):
            random.Random(n).shuffle(batch)
        outcomes = await asyncio.gather(*(store.inbox.record_many(b) for b in batches))
        flat = [o for batch in outcomes for o in batch]
        assert not [o for o in flat if isinstance(o, BaseException)]
        assert sorted(o.update_id for o in flat if isinstance(o, Pending)) == list(range(40))

    async def test_only_a_users_earliest_update_can_be_claimed(self, store: SqlStore) -> None:
        """Workers racing for all five of one user's updates: only the earliest is claimed;
        once it is done, only the next."""
        pending = [p for p in await store.inbox.record_many(arrivals(5, user=7))
                   if isinstance(p, Pending)]  # fmt: skip

        async def race() -> list[int]:
            claims = await asyncio.gather(
                *(store.inbox.claim(p.seq, owner=f"w{p.seq}", lease=LEASE) for p in pending)
            )
            return [p.update_id for p, c in zip(pending, claims, strict=True) if c is not None]

        assert await race() == [0]
        assert await store.inbox.done(pending[0].seq, owner=f"w{pending[0].seq}")
        assert await race() == [1]
