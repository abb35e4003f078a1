"""Money figures for `trt payments report`, read from payments and the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select

from trt.domain import LedgerKind, PaymentStatus
from trt.records import ModelUsage, MoneyFigures
from trt.store.engine import Database
from trt.store.stats import credits_given
from trt.store.tables import jobs, ledger_entries, payments


async def money_figures(db: Database, since: datetime) -> MoneyFigures:
    """Payments created, refunds made and generations settled since `since`."""
    paid = select(func.count(), func.coalesce(func.sum(payments.c.amount), 0)).where(
        payments.c.created_at >= since
    )
    refunded = select(func.coalesce(func.sum(payments.c.amount), 0)).where(
        payments.c.status == PaymentStatus.REFUNDED.value, payments.c.refunded_at >= since
    )
    async with db.transaction(readonly=True) as conn:
        count, received = (await conn.execute(paid)).one()
        back = (await conn.execute(refunded)).scalar_one()
        models = [
            ModelUsage(
                model,
                int(n),
                int(stars),
                float(quoted),
                measured=int(m),
                measured_stars=int(m_stars),
                measured_quote=float(m_quoted),
                real_credits=float(real),
            )  # fmt: skip
            for model, n, stars, quoted, m, m_stars, m_quoted, real in await conn.execute(
                _by_model(since)
            )
        ]
        given = await credits_given(conn, since)
    return MoneyFigures(int(count), int(received), int(back), models, given)


def _by_model(since: datetime) -> Select[Any]:
    """Per model: charged jobs, net Stars, quoted credits; then the same for the jobs KIE
    reported real credits for (measured), and those real credits."""
    charge = ledger_entries.c.kind == LedgerKind.CHARGE.value
    measured = jobs.c.real_credits.is_not(None)
    net_stars = case((charge, ledger_entries.c.amount), else_=-ledger_entries.c.amount)
    quoted = func.coalesce(jobs.c.kie_credits, 0.0)
    return (
        select(
            jobs.c.model_id,
            func.sum(case((charge, 1), else_=0)),
            func.sum(net_stars),
            func.sum(case((charge, quoted), else_=0.0)),
            func.sum(case((and_(charge, measured), 1), else_=0)),
            func.sum(case((measured, net_stars), else_=0)),
            func.sum(case((and_(charge, measured), quoted), else_=0.0)),
            func.sum(case((and_(charge, measured), jobs.c.real_credits), else_=0.0)),
        )
        .join(jobs, jobs.c.id == ledger_entries.c.job_id)
        .where(ledger_entries.c.kind.in_([LedgerKind.CHARGE.value, LedgerKind.REFUND.value]))
        .where(ledger_entries.c.created_at >= since)
        .group_by(jobs.c.model_id)
        .order_by(jobs.c.model_id)
    )
