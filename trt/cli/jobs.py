"""`trt jobs`: find jobs and read their story."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, UserOption, parse_since, with_runtime, with_services
from trt.cli.exports import CsvFlag, ExportSince, OutputOption
from trt.cli.render import plain, signed, stars, when
from trt.domain import JobId, JobState, TgUserId
from trt.records import JobFilter, JobRecord

app = typer.Typer(no_args_is_help=True, help="Generation jobs: list, inspect, repair.")


@app.command("list")
def list_jobs(
    user: UserOption = None,
    state: Annotated[JobState | None, typer.Option(help="Only jobs in this state.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model id.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(parser=parse_since, help="Created since: 2h, 30m, 1d or an ISO date."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    before: Annotated[str | None, typer.Option(help="Page: jobs older than this id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List jobs, newest first."""
    from trt.core import support

    query = JobFilter(
        user_id=TgUserId(user) if user is not None else None,
        states=(state,) if state else (), model_id=model, since=since, limit=limit,
        before_id=JobId(before) if before else None,
    )  # fmt: skip
    jobs = with_runtime(lambda rt: support.list_jobs(rt.store, query))
    next_before = jobs[-1].id if len(jobs) == limit else None
    if as_json:
        console.json_out({"jobs": [plain(j) for j in jobs], "next_before": next_before})
        return
    if not jobs:
        console.info("no jobs match")
        return
    rows = [
        (j.id, j.user_id, j.model_id, j.state, stars(j.price_stars), when(j.created_at),
         j.kie_task_id)
        for j in jobs
    ]  # fmt: skip
    console.table(["id", "user", "model", "state", "price", "created (UTC)", "KIE task"], rows)
    if next_before:
        console.info(f"more: trt jobs list --before {next_before} …")


@app.command()
def export(
    as_csv: CsvFlag = True,
    since: ExportSince = None,
    output: OutputOption = None,
) -> None:
    """Every job (or those created since a date) as CSV, oldest first, with a header row."""
    from trt.cli.exports import export_jobs

    count = export_jobs(since, output)
    if output is not None:
        console.success(f"wrote {count} jobs to {output}")


@app.command()
def show(
    job: Annotated[str, typer.Argument(help="A job id or a KIE task id.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a job with its event timeline and ledger rows."""
    from trt.core import support

    details = with_runtime(lambda rt: support.job_details(rt.store, job))
    if as_json:
        console.json_out({
            "job": plain(details.job),
            "events": [plain(e) for e in details.events],
            "ledger": [plain(e) for e in details.ledger],
        })  # fmt: skip
        return
    j = details.job
    console.fields([
        ("id", j.id), ("user", j.user_id), ("model", j.model_id), ("family", j.api_family),
        ("state", j.state), ("price", stars(j.price_stars)), ("KIE credits", j.kie_credits),
        ("KIE charged", _charged(j)), ("KIE task", j.kie_task_id),
        ("params", json.dumps(j.params, ensure_ascii=False)),
        ("results", "\n".join(j.result_urls) or None), ("error", j.error),
        ("created", when(j.created_at)), ("deadline", when(j.deadline_at)),
    ])  # fmt: skip
    console.table(
        ["time (UTC)", "from", "to", "source", "detail"],
        [(when(e.at), e.from_state, e.to_state, e.source, e.detail) for e in details.events],
        title="events",
    )
    console.table(
        ["time (UTC)", "kind", "amount", "balance", "held", "key"],
        [(when(e.created_at), e.kind, stars(e.amount), signed(e.balance_delta),
          signed(e.held_delta), e.key) for e in details.ledger],
        title="ledger",
    )  # fmt: skip


JobArg = Annotated[str, typer.Argument(help="A job id or a KIE task id.", show_default=False)]
ReasonOption = Annotated[str, typer.Option(help="Why; kept in the job's timeline.")]


def _charged(j: JobRecord) -> str | None:
    """What KIE said the job consumed, and where it said so; None before it succeeded."""
    if j.credits_source is None:
        return None
    if j.real_credits is None:
        return "unknown (KIE gave no figure)"
    return f"{j.real_credits:g} (from the {j.credits_source})"


@app.command("retry-delivery")
def retry_delivery(job: JobArg) -> None:
    """Send a succeeded job's result to its chat now, or a delivered one's again."""
    from trt.core import operations

    done, again = with_services(lambda s: operations.retry_delivery(s, job))
    if again:
        console.success(f"job {done.id}: result sent again to chat {done.chat_id}")
    elif done.state is JobState.DELIVERED:
        console.success(f"job {done.id} delivered")
    else:
        console.warn(f"job {done.id} is still {done.state}; delivery will be retried")


@app.command()
def refund(job: JobArg, reason: ReasonOption) -> None:
    """Give back a charged job's Stars (once; repeating it changes nothing)."""
    from trt.core import operations

    record, refunded = with_services(lambda s: operations.refund_job(s, job, reason=reason))
    if refunded:
        console.success(f"refunded {stars(record.price_stars)} for job {record.id}")
    else:
        console.warn(f"job {record.id} was refunded before: nothing moved")


@app.command()
def fail(job: JobArg, reason: ReasonOption) -> None:
    """Fail a stuck job and release its held Stars to the user."""
    from trt.core import operations

    record = with_services(lambda s: operations.fail_job(s, job, reason=reason))
    console.success(f"job {record.id} is {record.state}; {stars(record.price_stars)} released")


@app.command()
def reconcile(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what is due.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run one reconciler pass now and print what it did."""
    from trt.core import operations

    report = with_services(lambda s: operations.reconcile(s, dry_run=dry_run))
    sections = {"polled": report.polled, "orphans_failed": report.orphans_failed,
                "deliveries": report.deliveries}  # fmt: skip
    if as_json:
        console.json_out({"dry_run": dry_run, **sections})
        return
    verb = "due" if dry_run else "done"
    for name, ids in sections.items():
        console.line(f"{name.replace('_', ' ')} ({verb}): {len(ids)}  {' '.join(ids)}".rstrip())
