"""Counts for the admins' summary: users, today's jobs by state, Stars in and out, and
where the Stars put on balances came from (paid, or given: grants, bonuses, refunds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import JobState, LedgerKind
from trt.records import CreditsGiven, Summary
from trt.store.engine import Database
from trt.store.tables import jobs, ledger_entries, users


async def summary(db: Database, since: datetime) -> Summary:
    """Totals since `since` (users: all of them)."""
    by_state = (
        select(jobs.c.state, func.count()).where(jobs.c.created_at >= since).group_by(jobs.c.state)
    )
    async with db.transaction() as conn:
        count = int((await conn.execute(select(func.count()).select_from(users))).scalar_one())
        states = {JobState(s): int(n) for s, n in await conn.execute(by_state)}
        sums = await _sums(conn, since)
    stars_out = sums.get("charge", 0) - sums.get("refunds", 0)
    return Summary(count, states, _given(sums), stars_out)


async def credits_given(conn: AsyncConnection, since: datetime) -> CreditsGiven:
    """Where the Stars credited since `since` came from (inside the caller's transaction)."""
    return _given(await _sums(conn, since))


def _source() -> ColumnElement[str]:
    """Each ledger row's place in the breakdown, from its kind and its key's prefix."""
    kind, key = ledger_entries.c.kind, ledger_entries.c.key
    return case(
        (kind == LedgerKind.TOPUP.value, "paid"),
        (kind == LedgerKind.TOPUP_REFUND.value, "paid_back"),
        (kind == LedgerKind.CHARGE.value, "charge"),
        (kind == LedgerKind.REFUND.value, "refunds"),
        (kind == LedgerKind.GRANT.value, "grants"),
        (kind == LedgerKind.BONUS_REVOKED.value, "referral_back"),
        (key.like("bonus:referral:%"), "referral"),
        (key.like("bonus:welcome:%"), "welcome"),
        (key.like("bonus:promo:%"), "promo"),
        (key.like("bonus:topup:%"), "package"),
        (key.like("bonus:free:%"), "free"),
        else_=ledger_entries.c.kind,
    )


async def _sums(conn: AsyncConnection, since: datetime) -> dict[str, int]:
    source = _source().label("source")
    statement = (
        select(source, func.coalesce(func.sum(ledger_entries.c.amount), 0))
        .where(ledger_entries.c.created_at >= since)
        .group_by(source)
    )
    return {str(name): int(total) for name, total in await conn.execute(statement)}


def _given(sums: dict[str, int]) -> CreditsGiven:
    return CreditsGiven(
        paid=sums.get("paid", 0) - sums.get("paid_back", 0),
        grants=sums.get("grants", 0) - sums.get(LedgerKind.DEBIT.value, 0),
        welcome=sums.get("welcome", 0),
        referral=sums.get("referral", 0) - sums.get("referral_back", 0),
        promo=sums.get("promo", 0), package=sums.get("package", 0), free=sums.get("free", 0),
        refunds=sums.get("refunds", 0),
    )  # fmt: skip
