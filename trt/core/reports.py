"""The money report: Stars in and out, and what each model earned against its KIE cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from trt.records import CreditsGiven
from trt.settings import Settings

if TYPE_CHECKING:
    from trt.core.repos import Store


@dataclass(frozen=True, slots=True)
class ModelMargin:
    model_id: str
    jobs: int
    stars: int
    kie_credits: Decimal
    revenue_usd: Decimal  # stars × USD_PER_STAR
    cost_usd: Decimal  # KIE credits × USD_PER_CREDIT
    margin_usd: Decimal


@dataclass(frozen=True, slots=True)
class MoneyReport:
    since: datetime
    payments: int
    stars_received: int
    stars_refunded: int
    stars_spent: int  # on generations: charged minus refunded
    kie_credits: Decimal
    models: list[ModelMargin]
    credits: CreditsGiven  # what went onto balances: paid, or given (grants, bonuses…)


async def money_report(store: Store, settings: Settings, since: datetime) -> MoneyReport:
    figures = await store.money_figures(since)
    per_star, per_credit = (
        Decimal(str(settings.usd_per_star)),
        Decimal(str(settings.usd_per_credit)),
    )
    models = []
    for m in figures.models:
        credits = Decimal(str(m.kie_credits))
        revenue, cost = _cents(m.stars * per_star), _cents(credits * per_credit)
        models.append(
            ModelMargin(m.model_id, m.jobs, m.stars, credits, revenue, cost, revenue - cost)
        )
    return MoneyReport(
        since, figures.payments, figures.received, figures.refunded,
        sum(m.stars for m in models), sum((m.kie_credits for m in models), Decimal(0)), models,
        figures.credits,
    )  # fmt: skip


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
