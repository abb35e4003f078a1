"""Counts for the admins' summary: users, today's jobs by state, Stars in and out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from trt.domain import CREDIT_KINDS, JobState, LedgerKind
from trt.records import Summary
from trt.store.engine import Database
from trt.store.tables import jobs, ledger_entries, users


async def summary(db: Database, since: datetime) -> Summary:
    """Totals since `since` (users: all of them)."""
    by_state = (
        select(jobs.c.state, func.count()).where(jobs.c.created_at >= since).group_by(jobs.c.state)
    )
    by_kind = (
        select(ledger_entries.c.kind, func.coalesce(func.sum(ledger_entries.c.amount), 0))
        .where(ledger_entries.c.created_at >= since)
        .group_by(ledger_entries.c.kind)
    )
    async with db.transaction() as conn:
        count = int((await conn.execute(select(func.count()).select_from(users))).scalar_one())
        states = {JobState(s): int(n) for s, n in await conn.execute(by_state)}
        kinds = {LedgerKind(k): int(n) for k, n in await conn.execute(by_kind)}
    credited = sum(n for k, n in kinds.items() if k in CREDIT_KINDS)
    stars_in = credited - kinds.get(LedgerKind.TOPUP_REFUND, 0)
    stars_out = kinds.get(LedgerKind.CHARGE, 0) - kinds.get(LedgerKind.REFUND, 0)
    return Summary(count, states, stars_in, stars_out)
