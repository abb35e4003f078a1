"""`trt payments export` and `trt jobs export`: CSV for spreadsheets and accounting.

Rows are written as the store reads them, in batches, so a long history never sits in
memory whole. Timestamps are ISO 8601 UTC. Nothing secret or private goes out: no invoice
payloads, no prompts or parameters, no result links.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from trt.cli import console
from trt.cli.common import parse_since, with_runtime

if TYPE_CHECKING:
    from trt.records import JobRecord, PaymentRecord
    from trt.runtime import Runtime

R = TypeVar("R")

CsvFlag = Annotated[
    bool, typer.Option("--csv", help="CSV with a header row (the one format, and the default).")
]
ExportSince = Annotated[
    datetime | None,
    typer.Option(parser=parse_since, help="Only since: 2h, 30m, 1d or an ISO date."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]

PAYMENT_COLUMNS = (
    "id", "charge_id", "provider_charge_id", "user_id", "amount", "bonus", "currency",
    "status", "created_at", "refunded_at", "reversed_stars", "shortfall", "note",
)  # fmt: skip
JOB_COLUMNS = (
    "id", "user_id", "model_id", "api_family", "state", "price_stars", "kie_credits",
    "kie_task_id", "delivery_attempts", "created_at", "updated_at", "error",
)  # fmt: skip


def payment_row(p: PaymentRecord) -> tuple[object, ...]:
    return (
        p.id, p.telegram_payment_charge_id, p.provider_payment_charge_id, p.user_id, p.amount,
        p.bonus, p.currency, p.status.value, _iso(p.created_at), _iso(p.refunded_at),
        p.reversed_stars, p.shortfall, p.note,
    )  # fmt: skip


def job_row(j: JobRecord) -> tuple[object, ...]:
    return (
        j.id, j.user_id, j.model_id, j.api_family, j.state.value, j.price_stars,
        j.kie_credits, j.kie_task_id, j.delivery_attempts, _iso(j.created_at),
        _iso(j.updated_at), j.error,
    )  # fmt: skip


def export_payments(since: datetime | None, output: Path | None) -> int:
    """Write the payments as CSV; how many rows."""

    async def run(rt: Runtime) -> int:
        with console.csv_rows(PAYMENT_COLUMNS, output) as write:
            return await _each(rt.store.payments.export(since=since), payment_row, write)

    return with_runtime(run)


def export_jobs(since: datetime | None, output: Path | None) -> int:
    """Write the jobs as CSV; how many rows."""

    async def run(rt: Runtime) -> int:
        with console.csv_rows(JOB_COLUMNS, output) as write:
            return await _each(rt.store.jobs.export(since=since), job_row, write)

    return with_runtime(run)


async def _each(
    records: AsyncIterator[R],
    row: Callable[[R], Sequence[object]],
    write: Callable[[Sequence[object]], object],
) -> int:
    count = 0
    async for record in records:
        write(row(record))
        count += 1
    return count


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
