from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from trt.domain import CreditSource, EventSource, JobId, JobState, LedgerKind, TgUserId
from trt.errors import InsufficientBalance, InvalidTransition, LedgerConflict, TooManyActiveJobs
from trt.records import JobChanges, NewJob
from trt.store.sql import SqlStore

USER = TgUserId(7)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def job(price: int = 10, key: str | None = None) -> NewJob:
    return NewJob(USER, "m", "market", {}, price, request_key=key)


@pytest.fixture
async def funded(store: SqlStore) -> SqlStore:
    await store.users.ensure(USER)
    await store.ledger.credit(USER, 100, kind=LedgerKind.TOPUP, key="topup:1", reason="")
    return store


async def submitted(store: SqlStore, price: int = 10) -> JobId:
    opened, _ = await store.pipeline.open_job(job(price), max_active=3)
    await store.jobs.transition(opened.id, JobState.SUBMITTING, source=EventSource.USER)
    await store.jobs.transition(
        opened.id, JobState.SUBMITTED, source=EventSource.USER,
        changes=JobChanges(kie_task_id=f"t-{opened.id}"),
    )  # fmt: skip
    return opened.id


class TestOpenJob:
    async def test_opening_holds_the_price(self, funded: SqlStore) -> None:
        """A new job is held and its price moves from balance to held in the same step."""
        opened, created = await funded.pipeline.open_job(job(30), max_active=3)
        user = await funded.users.get(USER)
        assert (created, opened.state, user.balance, user.held) == (True, JobState.HELD, 70, 30)

    async def test_same_request_key_returns_the_first_job(self, funded: SqlStore) -> None:
        """Pressing Generate twice (same request key) makes one job and one hold."""
        first, _ = await funded.pipeline.open_job(job(30, key="press-1"), max_active=3)
        again, created = await funded.pipeline.open_job(job(30, key="press-1"), max_active=3)
        assert (again.id, created) == (first.id, False)
        assert (await funded.users.get(USER)).held == 30

    async def test_insufficient_balance_leaves_no_job(self, funded: SqlStore) -> None:
        """A price above the balance is refused and no job remains."""
        with pytest.raises(InsufficientBalance):
            await funded.pipeline.open_job(job(101), max_active=3)
        assert await funded.jobs.count_by_state() == dict.fromkeys(JobState, 0)

    async def test_active_limit_is_enforced_under_concurrency(self, funded: SqlStore) -> None:
        """Ten concurrent openings with a limit of 3 leave exactly 3 active jobs."""
        outcomes = await asyncio.gather(
            *(funded.pipeline.open_job(job(1), max_active=3) for _ in range(10)),
            return_exceptions=True,
        )
        assert sum(isinstance(o, TooManyActiveJobs) for o in outcomes) == 7
        assert (await funded.users.get(USER)).held == 3


class TestSettlement:
    async def test_success_charges_once(self, funded: SqlStore) -> None:
        """A success charges the hold and keeps the quote beside KIE's real figure; a second
        success is refused and charges nothing."""
        job_id = await submitted(funded)
        quoted = (await funded.jobs.get(job_id)).kie_credits
        done = await funded.pipeline.succeed(
            job_id, result_urls=["u"], real_credits=4.0, credits_source=CreditSource.CALLBACK,
            source=EventSource.CALLBACK, next_check_at=NOW,
        )  # fmt: skip
        assert (done.state, done.result_urls, done.kie_credits) == (
            JobState.SUCCEEDED,
            ("u",),
            quoted,
        )
        assert (done.real_credits, done.credits_source) == (4.0, CreditSource.CALLBACK)
        with pytest.raises(InvalidTransition):
            await funded.pipeline.succeed(
                job_id, result_urls=["u"], real_credits=9.0, credits_source=CreditSource.POLL,
                source=EventSource.POLL, next_check_at=NOW,
            )  # fmt: skip
        assert (await funded.jobs.get(job_id)).real_credits == 4.0
        user = await funded.users.get(USER)
        assert (user.balance, user.held) == (90, 0)

    async def test_failure_releases_and_ends_released(self, funded: SqlStore) -> None:
        """A failure records the reason, returns the hold and ends in released."""
        job_id = await submitted(funded)
        done = await funded.pipeline.fail(job_id, reason="moderation", source=EventSource.POLL)
        assert (done.state, done.error) == (JobState.RELEASED, "moderation")
        assert (await funded.users.get(USER)).balance == 100
        states = [e.to_state for e in await funded.jobs.events(job_id)]
        assert states[-2:] == [JobState.FAILED, JobState.RELEASED]

    async def test_success_and_failure_race_settles_once(self, funded: SqlStore) -> None:
        """A callback's success racing a deadline failure: exactly one wins."""
        job_id = await submitted(funded)
        outcomes = await asyncio.gather(
            funded.pipeline.succeed(job_id, result_urls=["u"], real_credits=None,
                                    credits_source=CreditSource.NONE,
                                    source=EventSource.CALLBACK, next_check_at=NOW),
            funded.pipeline.fail(job_id, reason="late", source=EventSource.RECONCILER),
            return_exceptions=True,
        )  # fmt: skip
        assert sum(isinstance(o, InvalidTransition) for o in outcomes) == 1
        assert await funded.ledger.invariant_violations() == []
        user = await funded.users.get(USER)
        assert user.held == 0
        assert user.balance in (90, 100)

    async def test_refund_of_delivered_job_once(self, funded: SqlStore) -> None:
        """A refund returns the Stars once and leaves a note in the timeline."""
        job_id = await submitted(funded)
        await funded.pipeline.succeed(job_id, result_urls=["u"], real_credits=None,
                                    credits_source=CreditSource.NONE,
                                      source=EventSource.POLL, next_check_at=NOW)  # fmt: skip
        assert await funded.pipeline.refund(job_id, reason="bad", source=EventSource.CLI)
        assert not await funded.pipeline.refund(job_id, reason="bad", source=EventSource.CLI)
        assert (await funded.users.get(USER)).balance == 100
        last = (await funded.jobs.events(job_id))[-1]
        assert last.detail == "refunded 10 ⭐: bad"

    async def test_part_refund_once_and_a_full_refund_returns_only_the_rest(
        self, funded: SqlStore
    ) -> None:
        """An undelivered share comes back once; a later full refund adds only what was
        kept, so no more than the charge ever returns; more than the charge is refused."""
        job_id = await submitted(funded)
        await funded.pipeline.succeed(job_id, result_urls=["u"], real_credits=None,
                                    credits_source=CreditSource.NONE,
                                      source=EventSource.POLL, next_check_at=NOW)  # fmt: skip
        with pytest.raises(LedgerConflict):
            await funded.pipeline.refund_part(job_id, 11, reason="x", source=EventSource.POLL)
        assert await funded.pipeline.refund_part(
            job_id, 7, reason="1 of 4", source=EventSource.POLL
        )
        assert not await funded.pipeline.refund_part(
            job_id, 7, reason="1 of 4", source=EventSource.POLL
        )
        assert (await funded.users.get(USER)).balance == 97
        assert await funded.pipeline.refund(job_id, reason="bad", source=EventSource.CLI)
        assert (await funded.users.get(USER)).balance == 100
        assert await funded.ledger.invariant_violations() == []


class TestClaims:
    async def test_due_jobs_are_claimed_once(self, funded: SqlStore) -> None:
        """A due job is handed to one claimer; the lease hides it from the next."""
        job_id = await submitted(funded)
        await funded.pipeline.schedule(job_id, next_check_at=NOW)
        states = [JobState.SUBMITTED]
        lease = NOW + timedelta(minutes=1)
        first = await funded.pipeline.claim_due(states, now=NOW, lease_until=lease, limit=10)
        second = await funded.pipeline.claim_due(states, now=NOW, lease_until=lease, limit=10)
        assert ([j.id for j in first], second) == ([job_id], [])
        assert first[0].next_check_at == lease
