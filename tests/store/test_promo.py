from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from trt.domain import PromoRefusal, TgUserId
from trt.errors import PromoExists, PromoRefused
from trt.store.sql import SqlStore

ANN = TgUserId(601)
BEN = TgUserId(602)


@pytest.fixture
async def users(store: SqlStore) -> SqlStore:
    for user in (ANN, BEN):
        await store.users.ensure(user)
    return store


async def refusal(store: SqlStore, code: str, user: TgUserId) -> str:
    with pytest.raises(PromoRefused) as caught:
        await store.promo.redeem(code, user)
    return caught.value.reason


class TestRedeem:
    async def test_redemption_credits_a_bonus_once_per_user(self, users: SqlStore) -> None:
        """A user gets the code's Stars once; the second try is refused and moves nothing."""
        await users.promo.create("SPRING", 25, uses=5)
        assert (await users.promo.redeem("SPRING", ANN)).balance == 25
        assert await refusal(users, "SPRING", ANN) == PromoRefusal.ALREADY_USED
        assert (await users.users.get(ANN)).balance == 25
        assert (await users.promo.get("SPRING")).used == 1
        [entry] = await users.ledger.entries(user_id=ANN)
        assert entry.key == f"bonus:promo:SPRING:{ANN}"

    async def test_unknown_disabled_expired_and_exhausted_are_refused(self, users: SqlStore):
        """Each refusal names its reason and leaves the balance alone."""
        past = datetime.now(UTC) - timedelta(days=1)
        await users.promo.create("OLD", 5, expires_at=past)
        await users.promo.create("OFF", 5)
        await users.promo.disable("OFF")
        await users.promo.create("ONE", 5, uses=1)
        await users.promo.redeem("ONE", BEN)
        assert await refusal(users, "NOPE", ANN) == PromoRefusal.UNKNOWN
        assert await refusal(users, "OLD", ANN) == PromoRefusal.EXPIRED
        assert await refusal(users, "OFF", ANN) == PromoRefusal.DISABLED
        assert await refusal(users, "ONE", ANN) == PromoRefusal.EXHAUSTED
        assert (await users.users.get(ANN)).balance == 0
        assert (await users.promo.get("ONE")).used == 1

    async def test_new_users_only_refuses_earlier_users(self, users: SqlStore) -> None:
        """A new-users-only code refuses users who joined before it was made."""
        await users.promo.create("HELLO", 5, new_users_only=True)
        assert await refusal(users, "HELLO", ANN) == PromoRefusal.NOT_NEW
        late = TgUserId(603)
        await users.users.ensure(late)
        assert (await users.promo.redeem("HELLO", late)).stars == 5
        assert (await users.promo.get("HELLO")).used == 1

    async def test_fifty_racing_users_take_exactly_ten_uses(self, store: SqlStore) -> None:
        """50 concurrent redemptions of a 10-use code: exactly 10 succeed and are credited."""
        racers = [TgUserId(700 + i) for i in range(50)]
        for user in racers:
            await store.users.ensure(user)
        await store.promo.create("RACE", 7, uses=10)
        outcomes = await asyncio.gather(
            *(store.promo.redeem("RACE", u) for u in racers), return_exceptions=True
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(won) == 10
        assert {getattr(o, "reason", o) for o in lost} == {PromoRefusal.EXHAUSTED}
        assert (await store.promo.get("RACE")).used == 10
        balances = [(await store.users.get(u)).balance for u in racers]
        assert sorted(balances) == [0] * 40 + [7] * 10
        assert await store.ledger.invariant_violations() == []

    async def test_one_user_racing_themselves_redeems_once(self, users: SqlStore) -> None:
        """The same user redeeming ten times at once gets the Stars once."""
        await users.promo.create("TWICE", 9, uses=100)
        outcomes = await asyncio.gather(
            *(users.promo.redeem("TWICE", ANN) for _ in range(10)), return_exceptions=True
        )
        assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
        assert ((await users.users.get(ANN)).balance, (await users.promo.get("TWICE")).used) == (
            9, 1,
        )  # fmt: skip


class TestManage:
    async def test_duplicate_code_is_refused(self, users: SqlStore) -> None:
        """A code can be created once."""
        await users.promo.create("DUP", 5)
        with pytest.raises(PromoExists):
            await users.promo.create("DUP", 9)

    async def test_list_shows_every_code(self, users: SqlStore) -> None:
        """The listing includes disabled codes with their counts."""
        await users.promo.create("A1", 5, uses=3)
        await users.promo.create("B2", 5)
        await users.promo.disable("B2")
        listed = {p.code: (p.uses, p.used, p.disabled) for p in await users.promo.find()}
        assert listed == {"A1": (3, 0, False), "B2": (None, 0, True)}
