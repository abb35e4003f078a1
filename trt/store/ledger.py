"""Money movements: each one guarded UPDATE plus one ledger row under a unique key.

A repeated key is a no-op that returns the first movement. The guard keeps balance and
held non-negative in SQL, so concurrent callers never overdraw (no read-modify-write).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import CREDIT_KINDS, STARS_LIMIT, JobId, LedgerKind, TgUserId
from trt.errors import InsufficientBalance, LedgerConflict, UsageError, UserNotFound
from trt.records import LedgerEntryRecord, LedgerResult
from trt.store.allowance import free_used
from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.tables import ledger_entries as ledger
from trt.store.tables import users


@dataclass(frozen=True, slots=True)
class Movement:
    user_id: TgUserId
    kind: LedgerKind
    amount: int
    balance_delta: int
    held_delta: int
    key: str
    job_id: JobId | None = None
    reason: str | None = None


async def apply(db: Database, movement: Movement) -> LedgerResult:
    """Run one movement atomically. Raises: InsufficientBalance, UserNotFound."""
    async with db.transaction() as conn:
        return await apply_in(conn, movement) or await existing_in(conn, movement.key)


# What a job's settlement moves, which earlier entry it needs, and which one excludes it.
_SETTLEMENTS: dict[LedgerKind, tuple[LedgerKind, LedgerKind | None]] = {
    LedgerKind.CHARGE: (LedgerKind.HOLD, LedgerKind.RELEASE),
    LedgerKind.RELEASE: (LedgerKind.HOLD, LedgerKind.CHARGE),
    LedgerKind.REFUND: (LedgerKind.CHARGE, None),
}


async def settle(
    db: Database, job_id: JobId, kind: LedgerKind, *, reason: str | None = None
) -> LedgerResult:
    """Charge, release or refund a job by the amount of its hold (or charge).

    Raises: LedgerConflict when the job has no such hold/charge or was settled the other way.
    """
    async with db.transaction() as conn:
        result = await settle_in(conn, job_id, kind, reason=reason)
        return result or await existing_in(conn, f"{kind}:{job_id}")


async def settle_in(
    conn: AsyncConnection, job_id: JobId, kind: LedgerKind, *, reason: str | None = None
) -> LedgerResult | None:
    """`settle` inside the caller's transaction; None when it was done before."""
    needs, excluded_by = _SETTLEMENTS[kind]
    source = await _entry_by_key(conn, f"{needs}:{job_id}")
    if source is None:
        raise LedgerConflict(f"job {job_id} has no {needs} to {kind}")
    amount = source.amount
    if kind is LedgerKind.REFUND:  # what an undelivered share returned already stays out
        part = await _entry_by_key(conn, f"{PART_REFUND}:{job_id}")
        amount -= part.amount if part is not None else 0
        if amount <= 0:
            return None  # all of it came back already
    result = await apply_in(conn, _settlement(kind, source, reason, amount))
    # Checked after apply_in's UPDATE has locked the user's row, so a racing opposite
    # settlement of the same job has committed and is visible here.
    excluded = f"{excluded_by}:{job_id}" if excluded_by else None
    if result is not None and excluded and await _entry_by_key(conn, excluded) is not None:
        raise LedgerConflict(f"job {job_id} was settled the other way ({excluded_by})")
    return result


def _settlement(
    kind: LedgerKind, source: LedgerEntryRecord, reason: str | None, amount: int
) -> Movement:
    balance_delta, held_delta = {
        LedgerKind.CHARGE: (0, -amount),
        LedgerKind.RELEASE: (amount, -amount),
        LedgerKind.REFUND: (amount, 0),
    }[kind]
    job_id = source.job_id
    return Movement(
        source.user_id, kind, amount, balance_delta, held_delta, f"{kind}:{job_id}", job_id, reason
    )


# The key prefix of a charged job's partial refund: the share of results KIE did not return.
PART_REFUND = "refund_part"


def part_refund_movement(job: LedgerEntryRecord, amount: int, reason: str) -> Movement:
    """Give back `amount` of the charge `job` (its charge entry): one per job, by key."""
    _require_positive(amount)
    key = f"{PART_REFUND}:{job.job_id}"
    return Movement(job.user_id, LedgerKind.REFUND, amount, amount, 0, key, job.job_id, reason)


async def charge_of(conn: AsyncConnection, job_id: JobId) -> LedgerEntryRecord | None:
    return await _entry_by_key(conn, f"{LedgerKind.CHARGE}:{job_id}")


async def _entry_by_key(conn: AsyncConnection, key: str) -> LedgerEntryRecord | None:
    row = (await conn.execute(select(ledger).where(ledger.c.key == key))).one_or_none()
    return None if row is None else to_record(row)


async def apply_in(conn: AsyncConnection, m: Movement) -> LedgerResult | None:
    """One movement inside the caller's transaction; None when its key was used before.

    Raises: InsufficientBalance, UserNotFound, LedgerConflict (the caller's transaction
    must then roll back, which undoes the ledger row).
    """
    now = datetime.now(UTC)
    try:
        entry_id = await _insert_entry(conn, m, now)
    except IntegrityError:  # the key conflict is ignored, so this is the user foreign key
        raise UserNotFound(m.user_id) from None
    if entry_id is None:
        return None
    balances = (
        await conn.execute(
            update(users)
            .where(users.c.id == m.user_id)
            .where(*_stays_in_range(users.c.balance, m.balance_delta))
            .where(*_stays_in_range(users.c.held, m.held_delta))
            .values(
                balance=users.c.balance + m.balance_delta,
                held=users.c.held + m.held_delta,
                updated_at=now,
            )
            .returning(users.c.balance, users.c.held)
        )
    ).one_or_none()
    if balances is None:
        raise await _why_rejected(conn, m)
    entry = LedgerEntryRecord(
        id=entry_id, user_id=m.user_id, kind=m.kind, amount=m.amount,
        balance_delta=m.balance_delta, held_delta=m.held_delta, job_id=m.job_id,
        key=m.key, reason=m.reason, created_at=now,
    )  # fmt: skip
    return LedgerResult(entry=entry, applied=True, balance=balances[0], held=balances[1])


def _stays_in_range(column: Any, delta: int) -> list[Any]:
    """`0 <= column + delta <= STARS_LIMIT`, written so the database never computes the
    sum: on Postgres the columns are 32-bit INTEGER and the sum itself would overflow."""
    if delta < 0:
        return [column >= -delta]
    return [column <= STARS_LIMIT - delta]


async def _insert_entry(conn: AsyncConnection, m: Movement, now: datetime) -> int | None:
    values: dict[str, Any] = {
        "user_id": m.user_id,
        "kind": m.kind.value,
        "amount": m.amount,
        "balance_delta": m.balance_delta,
        "held_delta": m.held_delta,
        "job_id": m.job_id,
        "key": m.key,
        "reason": m.reason,
        "created_at": now,
    }
    inserted = await conn.execute(insert_or_ignore(conn, ledger, values, key="key"))
    # rowcount, not RETURNING: on SQLite a RETURNING row costs aiosqlite another thread hop.
    if inserted.rowcount == 0:
        return None
    primary_key = inserted.inserted_primary_key
    assert primary_key is not None
    entry_id: int = primary_key[0]
    return entry_id


async def _why_rejected(conn: AsyncConnection, m: Movement) -> Exception:
    row = (
        await conn.execute(select(users.c.balance, users.c.held).where(users.c.id == m.user_id))
    ).one_or_none()
    if row is None:
        return UserNotFound(m.user_id)
    if m.balance_delta < 0:
        return InsufficientBalance(m.user_id, -m.balance_delta, row.balance)
    if row.balance + m.balance_delta > STARS_LIMIT or row.held + m.held_delta > STARS_LIMIT:
        return LedgerConflict(
            f"{m.key}: user {m.user_id} would hold more than {STARS_LIMIT} ⭐, the most a "
            "balance can be"
        )
    return LedgerConflict(f"{m.key}: user {m.user_id} holds {row.held} ⭐, less than {m.amount}")


async def existing_in(conn: AsyncConnection, key: str) -> LedgerResult:
    """The first movement made under `key`, with the user's current balances."""
    entry = await _entry_by_key(conn, key)
    assert entry is not None, "a used key is never deleted"
    balances = (
        await conn.execute(
            select(users.c.balance, users.c.held).where(users.c.id == entry.user_id)
        )
    ).one()
    return LedgerResult(entry=entry, applied=False, balance=balances[0], held=balances[1])


def to_record(row: Row[Any]) -> LedgerEntryRecord:
    return LedgerEntryRecord(
        id=row.id,
        user_id=TgUserId(row.user_id),
        kind=LedgerKind(row.kind),
        amount=row.amount,
        balance_delta=row.balance_delta,
        held_delta=row.held_delta,
        job_id=JobId(row.job_id) if row.job_id else None,
        key=row.key,
        reason=row.reason,
        created_at=row.created_at,
    )


def credit_movement(
    user_id: TgUserId, amount: int, *, kind: LedgerKind, key: str, reason: str
) -> Movement:
    """Raises: UsageError for a non-positive amount or a kind that is not a credit."""
    _require_positive(amount)
    if kind not in CREDIT_KINDS:
        raise UsageError("kind", f"{kind} is not one of {sorted(CREDIT_KINDS)}")
    return Movement(user_id, kind, amount, amount, 0, key, reason=reason)


def debit_movement(user_id: TgUserId, amount: int, *, key: str, reason: str) -> Movement:
    """Stars taken back by support; `apply_in`'s guard keeps the balance at or above zero."""
    _require_positive(amount)
    return Movement(user_id, LedgerKind.DEBIT, amount, -amount, 0, key, reason=reason)


def hold_movement(user_id: TgUserId, job_id: JobId, amount: int) -> Movement:
    _require_positive(amount)
    return Movement(user_id, LedgerKind.HOLD, amount, -amount, amount, f"hold:{job_id}", job_id)


def _require_positive(amount: int) -> None:
    if not 0 < amount <= STARS_LIMIT:
        raise UsageError("amount", f"must be a whole number of Stars from 1 to {STARS_LIMIT}")


class SqlLedger:
    """The LedgerRepo port over SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def credit(
        self, user_id: TgUserId, amount: int, *, kind: LedgerKind, key: str, reason: str
    ) -> LedgerResult:
        return await apply(
            self._db, credit_movement(user_id, amount, kind=kind, key=key, reason=reason)
        )

    async def debit(
        self, user_id: TgUserId, amount: int, *, key: str, reason: str
    ) -> LedgerResult:
        """Raises: InsufficientBalance, UserNotFound."""
        return await apply(self._db, debit_movement(user_id, amount, key=key, reason=reason))

    async def hold(self, user_id: TgUserId, job_id: JobId, amount: int) -> LedgerResult:
        return await apply(self._db, hold_movement(user_id, job_id, amount))

    async def charge(self, job_id: JobId) -> LedgerResult:
        return await settle(self._db, job_id, LedgerKind.CHARGE)

    async def release(self, job_id: JobId) -> LedgerResult:
        return await settle(self._db, job_id, LedgerKind.RELEASE)

    async def refund(self, job_id: JobId, *, reason: str) -> LedgerResult:
        return await settle(self._db, job_id, LedgerKind.REFUND, reason=reason)

    async def entries(
        self, *, user_id: TgUserId | None = None, job_id: JobId | None = None, limit: int = 20
    ) -> list[LedgerEntryRecord]:
        statement = select(ledger).order_by(ledger.c.id.desc()).limit(limit)
        if user_id is not None:
            statement = statement.where(ledger.c.user_id == user_id)
        if job_id is not None:
            statement = statement.where(ledger.c.job_id == job_id)
        async with self._db.transaction(readonly=True) as conn:
            return [to_record(row) for row in await conn.execute(statement)]

    async def free_used(self, user_id: TgUserId, day: date) -> int:
        """Free generations the user had on `day` (UTC)."""
        return await free_used(self._db, user_id, day)

    async def invariant_violations(self) -> list[str]:
        """Users whose balance/held disagree with the sum of their ledger rows or are
        negative (DESIGN.md's invariant), one line each, by user id."""
        sums = (
            select(
                ledger.c.user_id,
                func.sum(ledger.c.balance_delta).label("balance"),
                func.sum(ledger.c.held_delta).label("held"),
            )
            .group_by(ledger.c.user_id)
            .subquery()
        )
        summed = (func.coalesce(sums.c.balance, 0), func.coalesce(sums.c.held, 0))
        statement = select(users.c.id, users.c.balance, users.c.held, *summed)
        statement = statement.outerjoin(sums, sums.c.user_id == users.c.id).order_by(users.c.id)
        async with self._db.transaction(readonly=True) as conn:
            rows = (await conn.execute(statement)).all()
        problems = []
        for uid, bal, held, ledger_bal, ledger_held in rows:
            if (bal, held) != (ledger_bal, ledger_held):
                says = f"{ledger_bal}/{ledger_held}"
                problems.append(f"user {uid}: balance {bal}/held {held} but ledger says {says}")
            elif bal < 0 or held < 0:
                problems.append(f"user {uid}: balance {bal}/held {held} is negative")
        return problems
