"""Real KIE credits recorded beside the quote, and the cost guard judging them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from tests.core.conftest import CHAT, USER, Rig, build
from tests.store.conftest import database, store  # noqa: F401 - both backends
from trt.catalog.registry import Registry
from trt.core.costguard import ACTOR, USER_REASON, CostGuard, GuardPolicy
from trt.domain import CreditSource, EventSource, JobState, KieTaskId, LedgerKind
from trt.records import JobRecord
from trt.store.sql import SqlStore

MODEL = "google/nano-banana"  # quoted 4 credits, sold for 3 ⭐ ($0.039; 4 credits: $0.02)
POLICY = GuardPolicy(
    jobs=3, min_margin=Decimal("0.1"), auto_disable=False,
    usd_per_credit=Decimal("0.005"), usd_per_star=Decimal("0.013"),
)  # fmt: skip


@dataclass
class FakeSwitch:
    """Implements ModelSwitch: records what it was asked to disable."""

    disabled: list[tuple[str, str, str]] = field(default_factory=list)

    async def disable(self, model_id: str, *, actor: str, reason: str) -> None:
        self.disabled.append((model_id, actor, reason))


@dataclass
class Guarded:
    rig: Rig
    switch: FakeSwitch

    async def job(self, real: Decimal | None, *, callback: bool = True) -> JobRecord:
        """One nano-banana job settled by a callback saying `real` credits (or by a
        poll whose record says nothing, with `callback=False`)."""
        rig = self.rig
        rig.kie.cost = None  # recordInfo carries no figure, as KIE documents it
        quote = rig.gen.quote(MODEL, {"prompt": "a cat"})
        job = await rig.gen.start(USER, quote, chat_id=CHAT)
        if callback:
            await rig.gen.on_callback(KieTaskId(job.kie_task_id or ""), credits=real)
        else:
            await rig.gen.refresh(job, source=EventSource.RECONCILER)
        return await rig.store.jobs.get(job.id)

    async def jobs(self, *reals: Decimal) -> None:
        for real in reals:
            await self.job(real)


def guard_for(store: SqlStore, rig: Rig, switch: FakeSwitch, **policy: object) -> CostGuard:  # noqa: F811
    return CostGuard(
        costs=store.costs, messenger=rig.messenger, switch=switch,
        policy=replace(POLICY, **policy), clock=rig.clock,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
async def guarded(store: SqlStore, registry: Registry) -> Guarded:  # noqa: F811
    await store.users.ensure(USER)
    await store.ledger.credit(USER, 1000, kind=LedgerKind.TOPUP, key="topup:t", reason="")
    rig, switch = build(store, registry), FakeSwitch()
    rig.gen.cost_guard = guard_for(store, rig, switch)
    return Guarded(rig, switch)


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


class TestRecordingRealCredits:
    async def test_a_callbacks_figure_is_kept_beside_the_quote(self, guarded: Guarded) -> None:
        """consumeCredits from the callback is the real cost; the quote stays as it was."""
        job = await guarded.job(Decimal(6))
        assert job.state is JobState.DELIVERED
        assert (job.kie_credits, job.real_credits, job.credits_source) == (
            4.0,
            6.0,
            CreditSource.CALLBACK,
        )

    async def test_a_polled_record_with_a_figure_counts(self, guarded: Guarded) -> None:
        """A record that carries the consumed credits is used when no callback said."""
        rig = guarded.rig
        quote = rig.gen.quote(MODEL, {"prompt": "a cat"})
        job = await rig.gen.start(USER, quote, chat_id=CHAT)
        rig.kie.cost = Decimal(5)
        await rig.gen.refresh(job, source=EventSource.RECONCILER)
        stored = await rig.store.jobs.get(job.id)
        assert (stored.kie_credits, stored.real_credits, stored.credits_source) == (
            4.0,
            5.0,
            CreditSource.POLL,
        )

    async def test_polling_without_a_figure_leaves_the_job_unmeasured(
        self, guarded: Guarded
    ) -> None:
        """Only a poll saw the job and KIE named no figure: real is unknown, not the quote."""
        job = await guarded.job(None, callback=False)
        assert job.state is JobState.DELIVERED
        assert (job.kie_credits, job.real_credits, job.credits_source) == (
            4.0,
            None,
            CreditSource.NONE,
        )

    async def test_a_callback_after_the_poll_fills_in_the_figure_once(
        self, guarded: Guarded
    ) -> None:
        """A poll settled the job first; the callback's figure is recorded after all, and
        a duplicate callback with another figure changes nothing."""
        job = await guarded.job(None, callback=False)
        task = KieTaskId(job.kie_task_id or "")
        await guarded.rig.gen.on_callback(task, credits=Decimal(7))
        await guarded.rig.gen.on_callback(task, credits=Decimal(99))
        stored = await guarded.rig.store.jobs.get(job.id)
        assert (stored.real_credits, stored.credits_source) == (7.0, CreditSource.CALLBACK)
        assert len(guarded.rig.messenger.delivered) == 1


class TestCostGuard:
    async def test_losing_money_alerts_once_per_episode(
        self, guarded: Guarded, caplog: pytest.LogCaptureFixture
    ) -> None:
        """10 credits real against 4 quoted costs $0.05 per $0.039 sold: one alert and one
        log line when the window fills, none for the jobs after; nothing disabled."""
        await guarded.jobs(Decimal(10), Decimal(10))
        assert guarded.rig.messenger.alerts == []  # the window is not full yet
        with caplog.at_level(logging.INFO):
            await guarded.jobs(Decimal(10), Decimal(10), Decimal(10))
        (alert,) = guarded.rig.messenger.alerts
        assert alert.startswith(f"Cost guard: {MODEL} — real cost $0.1500 exceeds revenue")
        assert "quoted 12 credits, KIE charged 30" in alert
        (line,) = events(caplog, "cost_guard_tripped")
        assert line.getMessage() == (
            f"cost_guard_tripped model={MODEL} jobs=3 quoted_credits=12 real_credits=30 "
            "revenue_usd=0.1170 cost_usd=0.1500 margin=-0.2821 "
            'reason="real cost $0.1500 exceeds revenue $0.1170" auto_disable=False'
        )
        assert guarded.switch.disabled == []

    async def test_it_alerts_again_only_after_recovering(
        self, guarded: Guarded, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Tripped, then three jobs at the quote close the episode; a new loss alerts anew."""
        await guarded.jobs(Decimal(10), Decimal(10), Decimal(10))
        with caplog.at_level(logging.INFO):
            await guarded.jobs(Decimal(4), Decimal(4), Decimal(4))
        assert len(events(caplog, "cost_guard_recovered")) == 1
        assert len(guarded.rig.messenger.alerts) == 1
        await guarded.jobs(Decimal(10), Decimal(10))
        assert len(guarded.rig.messenger.alerts) == 2

    async def test_a_thin_margin_trips_with_the_setting(self, guarded: Guarded) -> None:
        """7.2 credits real keeps 7.7% of revenue: below the 10% setting, so it trips."""
        await guarded.jobs(Decimal("7.2"), Decimal("7.2"), Decimal("7.2"))
        (alert,) = guarded.rig.messenger.alerts
        assert "real margin 7.7% is below 10.0%" in alert

    async def test_a_margin_above_the_setting_passes(
        self,
        store: SqlStore,  # noqa: F811
        guarded: Guarded,
    ) -> None:
        """The same costs pass when the setting asks for 5%."""
        rig = guarded.rig
        rig.gen.cost_guard = guard_for(store, rig, guarded.switch, min_margin=Decimal("0.05"))
        await guarded.jobs(Decimal("7.2"), Decimal("7.2"), Decimal("7.2"))
        assert rig.messenger.alerts == []

    async def test_auto_disable_calls_the_switch_when_enabled(
        self,
        store: SqlStore,  # noqa: F811
        guarded: Guarded,
    ) -> None:
        """With COST_GUARD_AUTO_DISABLE the model is disabled once, by the cost guard, with
        a reason fit for users (the figures go to the admins)."""
        rig = guarded.rig
        rig.gen.cost_guard = guard_for(store, rig, guarded.switch, auto_disable=True)
        await guarded.jobs(*[Decimal(10)] * 5)
        assert guarded.switch.disabled == [(MODEL, ACTOR, USER_REASON)]
        assert "real cost $0.1500 exceeds revenue $0.1170" in rig.messenger.alerts[0]
        assert "it was disabled" in rig.messenger.alerts[0]

    async def test_unmeasured_jobs_prove_nothing(self, guarded: Guarded) -> None:
        """Jobs KIE gave no figure for never fill the window."""
        for _ in range(4):
            await guarded.job(None, callback=False)
        assert await guarded.rig.store.costs.window(MODEL, jobs_back=3) == []
        assert guarded.rig.messenger.alerts == []

    async def test_two_instances_alert_once(self, store: SqlStore, guarded: Guarded) -> None:  # noqa: F811
        """The episode is stored: a second instance judging the same window stays quiet."""
        rig = guarded.rig
        rig.gen.cost_guard = None
        await guarded.jobs(Decimal(10), Decimal(10), Decimal(10))
        first, second = (guard_for(store, rig, guarded.switch) for _ in range(2))
        verdicts = [await first.check(MODEL), await second.check(MODEL)]
        assert all(v is not None and v.margin is not None and v.margin < 0 for v in verdicts)
        assert len(rig.messenger.alerts) == 1
        assert await store.costs.tripped() == {MODEL: "real cost $0.1500 exceeds revenue $0.1170"}
