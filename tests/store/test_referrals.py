from __future__ import annotations

import asyncio

import pytest

from trt.domain import TgUserId
from trt.records import NewPayment, ReferralStats
from trt.store.sql import SqlStore

HOST = TgUserId(801)
GUEST = TgUserId(802)
OTHER = TgUserId(803)


@pytest.fixture
async def users(store: SqlStore) -> SqlStore:
    for user in (HOST, GUEST, OTHER):
        await store.users.ensure(user)
    return store


def topup(charge: str, user: TgUserId = GUEST) -> NewPayment:
    return NewPayment(charge, None, user, 100, "XTR", f"t1:{charge}")


class TestBind:
    async def test_binds_once(self, users: SqlStore) -> None:
        """The first binding wins; a later one to someone else is ignored."""
        assert await users.referrals.bind(GUEST, HOST) is True
        assert await users.referrals.bind(GUEST, OTHER) is False
        assert await users.referrals.referrer_of(GUEST) == HOST

    async def test_self_and_unknown_referrers_are_refused(self, users: SqlStore) -> None:
        """Nobody refers themselves, and an inviter who never started the bot binds nobody."""
        assert await users.referrals.bind(GUEST, GUEST) is False
        assert await users.referrals.bind(GUEST, TgUserId(999)) is False
        assert await users.referrals.referrer_of(GUEST) is None


class TestReward:
    async def test_first_topup_pays_both_sides_once(self, users: SqlStore) -> None:
        """Both get the bonus with the first top-up; later top-ups pay no more bonuses."""
        await users.referrals.bind(GUEST, HOST)
        first = await users.payments.record(topup("c1"), referral_bonus=10)
        second = await users.payments.record(topup("c2"), referral_bonus=10)
        assert (first.referral_rewarded, second.referral_rewarded) == (True, False)
        assert (await users.users.get(HOST)).balance == 10
        assert (await users.users.get(GUEST)).balance == 210
        assert await users.referrals.stats(HOST) == ReferralStats(joined=1, paid=1)

    async def test_concurrent_first_topups_reward_once(self, users: SqlStore) -> None:
        """Two different first top-ups racing pay the referral bonus once."""
        await users.referrals.bind(GUEST, HOST)
        results = await asyncio.gather(
            *(users.payments.record(topup(f"c{i}"), referral_bonus=10) for i in range(6))
        )
        assert sum(r.referral_rewarded for r in results) == 1
        assert (await users.users.get(HOST)).balance == 10
        assert await users.ledger.invariant_violations() == []

    async def test_unreferred_users_pay_no_bonus(self, users: SqlStore) -> None:
        """A top-up by someone nobody invited credits just the top-up."""
        result = await users.payments.record(topup("c1"), referral_bonus=10)
        assert (result.referral_rewarded, result.balance) == (False, 100)
        assert await users.referrals.stats(HOST) == ReferralStats(joined=0, paid=0)


class TestRevoke:
    async def test_refunding_the_rewarding_topup_takes_both_bonuses_back(
        self, users: SqlStore
    ) -> None:
        """The bonuses go with the top-up that paid them: each side's is taken back in the
        refund's transaction, with a ledger entry each, and the referral can pay again."""
        await users.referrals.bind(GUEST, HOST)
        await users.payments.record(topup("c1"), referral_bonus=10)
        refund = await users.payments.reverse("c1", reason="asked", force=False)
        assert refund.balance == 0
        assert ((await users.users.get(HOST)).balance, (await users.users.get(GUEST)).balance) == (
            0,
            0,
        )
        kinds = [e.kind.value for e in await users.ledger.entries(user_id=HOST)]
        assert kinds.count("bonus_revoked") == 1
        assert await users.referrals.stats(HOST) == ReferralStats(joined=1, paid=0)
        assert await users.ledger.invariant_violations() == []
        again = await users.payments.record(topup("c2"), referral_bonus=10)  # a real one
        assert again.referral_bonus == 10

    async def test_a_spent_referrer_bonus_is_taken_as_far_as_the_balance_goes(
        self, users: SqlStore
    ) -> None:
        await users.referrals.bind(GUEST, HOST)
        await users.payments.record(topup("c1"), referral_bonus=10)
        await users.ledger.hold(HOST, "01SPENT", 7)  # type: ignore[arg-type]
        await users.payments.reverse("c1", reason="asked", force=False)
        host = await users.users.get(HOST)
        assert (host.balance, host.held) == (0, 7)
        assert await users.ledger.invariant_violations() == []

    async def test_a_later_topup_refund_keeps_the_bonuses(self, users: SqlStore) -> None:
        await users.referrals.bind(GUEST, HOST)
        await users.payments.record(topup("c1"), referral_bonus=10)
        await users.payments.record(topup("c2"), referral_bonus=10)
        await users.payments.reverse("c2", reason="asked", force=False)
        assert (await users.users.get(HOST)).balance == 10
        assert (await users.users.get(GUEST)).balance == 110
