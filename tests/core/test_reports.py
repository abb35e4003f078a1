from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.store.conftest import database, store  # noqa: F401 - both backends
from trt.core.reports import ModelMargin, money_report
from trt.domain import CreditSource, EventSource, JobState, LedgerKind, TgUserId
from trt.records import JobChanges, NewJob, NewPayment
from trt.settings import Settings
from trt.store.sql import SqlStore

ANN = TgUserId(901)
BEN = TgUserId(902)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def _job(
    s: SqlStore,
    user: TgUserId,
    model: str,
    price: int,
    credits: float,
    *,
    real: float | None = None,
) -> str:
    job, _ = await s.pipeline.open_job(
        NewJob(user, model, "market", {}, price, kie_credits=credits), max_active=3
    )
    for state in (JobState.SUBMITTING, JobState.SUBMITTED):
        await s.jobs.transition(job.id, state, source=EventSource.USER, changes=JobChanges())
    source = CreditSource.NONE if real is None else CreditSource.CALLBACK
    await s.pipeline.succeed(
        job.id, result_urls=["u"], real_credits=real, credits_source=source,
        source=EventSource.CALLBACK, next_check_at=LONG_AGO,
    )  # fmt: skip
    return job.id


async def seed(s: SqlStore) -> None:
    """Payments: 100 + 250 (+12 bonus) + 50 refunded; generations: two of m1 (one refunded)
    at 10 ⭐ and 20 credits each, one of m2 at 30 ⭐ and 50 credits."""
    for user in (ANN, BEN):
        await s.users.ensure(user)
    await s.payments.record(NewPayment("c1", None, ANN, 100, "XTR", "p1"))
    await s.payments.record(NewPayment("c2", None, BEN, 250, "XTR", "p2", bonus=12))
    await s.payments.record(NewPayment("c3", None, ANN, 50, "XTR", "p3"))
    await s.payments.reverse("c3", reason="asked", force=False)
    await _job(s, ANN, "m1", 10, 20)
    refunded = await _job(s, ANN, "m1", 10, 20)
    await s.ledger.refund(refunded, reason="blurry")  # type: ignore[arg-type]
    await _job(s, BEN, "m2", 30, 50)


class TestMoneyReport:
    async def test_figures_match_the_seeded_ledger(self, store: SqlStore) -> None:  # noqa: F811
        """Received, refunded, spent, credits and each model's margin add up."""
        await seed(store)
        report = await money_report(store, Settings(_env_file=None), LONG_AGO)
        assert (report.payments, report.stars_received, report.stars_refunded) == (3, 400, 50)
        assert (report.stars_spent, report.kie_credits) == (40, Decimal(90))
        unknown = (Decimal(0), None, Decimal(0), None, None)  # no job measured
        assert report.models == [
            ModelMargin("m1", 2, 10, Decimal(40), Decimal("0.13"), Decimal("0.20"),
                        Decimal("-0.07"), 0, 2, *unknown),
            ModelMargin("m2", 1, 30, Decimal(50), Decimal("0.39"), Decimal("0.25"),
                        Decimal("0.14"), 0, 1, *unknown),
        ]  # fmt: skip
        assert (report.real_credits, report.unmeasured) == (Decimal(0), 3)
        assert await store.ledger.invariant_violations() == []

    async def test_since_excludes_older_activity(self, store: SqlStore) -> None:  # noqa: F811
        """A start after everything happened reports zeros."""
        await seed(store)
        later = datetime.now(UTC) + timedelta(minutes=1)
        report = await money_report(store, Settings(_env_file=None), later)
        assert (report.payments, report.stars_received, report.stars_spent) == (0, 0, 0)
        assert report.models == []

    async def test_real_credits_beside_the_quote(self, store: SqlStore) -> None:  # noqa: F811
        """Quoted and real credits side by side; the real margin covers only the jobs KIE
        reported a figure for, and the one it did not is counted as unmeasured."""
        await store.users.ensure(ANN)
        await store.ledger.credit(ANN, 100, kind=LedgerKind.GRANT, key="grant:g", reason="")
        await _job(store, ANN, "m3", 10, 20, real=30)
        await _job(store, ANN, "m3", 10, 20, real=40)
        await _job(store, ANN, "m3", 10, 20)
        report = await money_report(store, Settings(_env_file=None), LONG_AGO)
        (m3,) = report.models
        assert m3 == ModelMargin(
            "m3", 3, 30, Decimal(60), Decimal("0.39"), Decimal("0.30"), Decimal("0.09"),
            measured=2, unmeasured=1, real_credits=Decimal(70), real_vs_quote=Decimal("1.750"),
            real_cost_usd=Decimal("0.35"), real_margin_usd=Decimal("-0.09"),
            real_margin=Decimal("-0.346"),
        )  # fmt: skip
        assert (report.kie_credits, report.real_credits, report.unmeasured) == (
            Decimal(60),
            Decimal(70),
            1,
        )
