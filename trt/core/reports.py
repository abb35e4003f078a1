"""The money report: Stars in and out, and what each model earned against its KIE cost,
as quoted and as KIE really charged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from trt.records import CreditsGiven, ModelUsage
from trt.settings import Settings

if TYPE_CHECKING:
    from trt.core.repos import Store


@dataclass(frozen=True, slots=True)
class ModelMargin:
    model_id: str
    jobs: int
    stars: int
    kie_credits: Decimal  # quoted
    revenue_usd: Decimal  # stars × USD_PER_STAR
    cost_usd: Decimal  # quoted credits × USD_PER_CREDIT
    margin_usd: Decimal  # on the quote
    measured: int  # jobs KIE reported real credits for; the rest are unmeasured
    unmeasured: int
    real_credits: Decimal  # of the measured jobs
    real_vs_quote: Decimal | None  # real ÷ quoted credits of the measured jobs
    real_cost_usd: Decimal
    real_margin_usd: Decimal | None  # measured jobs' revenue − real cost; None: none measured
    real_margin: Decimal | None  # as a share of that revenue


@dataclass(frozen=True, slots=True)
class MoneyReport:
    since: datetime
    payments: int
    stars_received: int
    stars_refunded: int
    stars_spent: int  # on generations: charged minus refunded
    kie_credits: Decimal  # quoted
    real_credits: Decimal  # reported by KIE, for the measured jobs
    unmeasured: int  # charged jobs KIE gave no figure for
    models: list[ModelMargin]
    credits: CreditsGiven  # what went onto balances: paid, or given (grants, bonuses…)
    cost_guard: dict[str, str]  # models whose cost guard episode is open, and why


@dataclass(frozen=True, slots=True)
class _Rates:
    per_star: Decimal
    per_credit: Decimal


async def money_report(store: Store, settings: Settings, since: datetime) -> MoneyReport:
    figures = await store.money_figures(since)
    rates = _Rates(Decimal(str(settings.usd_per_star)), Decimal(str(settings.usd_per_credit)))
    models = [_margin(m, rates) for m in figures.models]
    return MoneyReport(
        since, figures.payments, figures.received, figures.refunded,
        sum(m.stars for m in models), sum((m.kie_credits for m in models), Decimal(0)),
        sum((m.real_credits for m in models), Decimal(0)), sum(m.unmeasured for m in models),
        models, figures.credits, await store.costs.tripped(),
    )  # fmt: skip


def _margin(m: ModelUsage, rates: _Rates) -> ModelMargin:
    quoted, real = _decimal(m.kie_credits), _decimal(m.real_credits)
    revenue, cost = _cents(m.stars * rates.per_star), _cents(quoted * rates.per_credit)
    real_cost = _cents(real * rates.per_credit)
    real_margin_usd = real_margin = ratio = None
    if m.measured:
        measured_revenue = m.measured_stars * rates.per_star
        real_margin_usd = _cents(measured_revenue - real * rates.per_credit)
        if measured_revenue:
            real_margin = _share((measured_revenue - real * rates.per_credit) / measured_revenue)
        quote = _decimal(m.measured_quote)
        ratio = _share(real / quote) if quote else None
    return ModelMargin(
        m.model_id, m.jobs, m.stars, quoted, revenue, cost, revenue - cost,
        m.measured, m.jobs - m.measured, real, ratio, real_cost, real_margin_usd, real_margin,
    )  # fmt: skip


def _decimal(value: float) -> Decimal:
    return Decimal(str(value)).normalize() + 0  # + 0: no "-0" or exponent for whole numbers


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _share(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.001"))
