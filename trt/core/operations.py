"""Support actions on jobs that need the whole pipeline: re-deliver, refund, fail, reconcile."""

from __future__ import annotations

from trt.core.failures import FailureReason
from trt.core.reconciler import PassReport, run_pass
from trt.core.services import Services
from trt.domain import EventSource, JobState
from trt.errors import InvalidTransition
from trt.records import JobRecord


async def retry_delivery(services: Services, key: str) -> JobRecord:
    """Send a succeeded job's result now. Raises: JobNotFound, InvalidTransition."""
    job = await services.store.jobs.get(key)
    if job.state is not JobState.SUCCEEDED:
        raise InvalidTransition(job.id, job.state, JobState.DELIVERED)
    return await services.generation.deliver(job)


async def refund_job(services: Services, key: str, *, reason: str) -> tuple[JobRecord, bool]:
    """Give back a charged job's Stars; (job, False) when it was refunded before.

    Raises: JobNotFound, LedgerConflict (never charged).
    """
    job = await services.store.jobs.get(key)
    refunded = await services.store.pipeline.refund(job.id, reason=reason, source=EventSource.CLI)
    return job, refunded


async def fail_job(services: Services, key: str, *, reason: str) -> JobRecord:
    """Fail a stuck job and release its hold. Raises: JobNotFound, InvalidTransition."""
    job = await services.store.jobs.get(key)
    return await services.generation.fail(job.id, FailureReason.SUPPORT, reason, EventSource.CLI)


async def reconcile(services: Services, *, dry_run: bool) -> PassReport:
    """One reconciler pass now (or, dry, what it would touch)."""
    return await run_pass(services.generation, now=services.generation.now(), dry_run=dry_run)
