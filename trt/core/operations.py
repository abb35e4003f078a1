"""Support actions on jobs that need the whole pipeline: re-deliver, refund, fail, reconcile."""

from __future__ import annotations

import logging

from trt.core import payments
from trt.core.failures import FailureReason
from trt.core.reconciler import PassReport, run_pass
from trt.core.services import Services
from trt.domain import EventSource, JobState
from trt.errors import AlreadyRefunded, ConfigError, InvalidTransition
from trt.records import JobRecord, PaymentResult, RefundNotice

logger = logging.getLogger(__name__)


async def retry_delivery(services: Services, key: str) -> tuple[JobRecord, bool]:
    """Send a succeeded job's result now, or a delivered one's again (support's most
    common request: "I lost my picture"). Raises: JobNotFound, InvalidTransition (no
    result yet), DeliveryFailed (a delivered job's result could not be sent again)."""
    job = await services.store.jobs.get(key)
    if job.state is JobState.DELIVERED and job.chat_id is not None:
        free = await services.generation.was_free(job)
        await services.generation.messenger.resend(job, job.chat_id, free=free)
        return job, True
    if job.state is not JobState.SUCCEEDED:
        raise InvalidTransition(job.id, job.state, JobState.DELIVERED)
    return await services.generation.deliver(job), False


async def refund_job(services: Services, key: str, *, reason: str) -> tuple[JobRecord, bool]:
    """Give back a charged job's Stars; (job, False) when it was refunded before.

    Raises: JobNotFound, LedgerConflict (never charged).
    """
    job = await services.store.jobs.get(key)
    refunded = await services.store.pipeline.refund(job.id, reason=reason, source=EventSource.CLI)
    if refunded:
        logger.info("job %s of user %s refunded by support: %s", job.id, job.user_id, reason)
        balance = (await services.store.users.get(job.user_id)).balance
        notice = RefundNotice(job.user_id, job.price_stars, balance, job=job)
        await _tell(services, notice)
    return job, refunded


async def refund_payment(
    services: Services, charge_id: str, *, reason: str, force: bool
) -> PaymentResult:
    """Return a payment's Stars through Telegram, take its credit back and tell the user.
    A payment refunded before moves nothing (`applied` False), like a repeated job refund.

    Raises: ConfigError (no bot token), PaymentNotFound, RefundExceedsBalance,
    RefundFailed.
    """
    if services.stars is None:
        raise ConfigError(["TELEGRAM_BOT_TOKEN is required to refund through Telegram"])
    try:
        result = await payments.refund(
            services.store, services.stars, charge_id, reason=reason, force=force
        )
    except AlreadyRefunded:
        payment = await services.store.payments.get(charge_id)
        balance = (await services.store.users.get(payment.user_id)).balance
        return PaymentResult(payment, False, balance)
    p = result.payment
    notice = RefundNotice(p.user_id, p.amount, result.balance, charge_id=charge_id)
    await _tell(services, notice)
    return result


async def _tell(services: Services, notice: RefundNotice) -> None:
    told = await services.generation.messenger.tell_refund(notice)
    logger.info("user %s %s told of the refund", notice.user_id, "was" if told else "was not")


async def fail_job(services: Services, key: str, *, reason: str) -> JobRecord:
    """Fail a stuck job and release its hold. Raises: JobNotFound, InvalidTransition."""
    job = await services.store.jobs.get(key)
    return await services.generation.fail(job.id, FailureReason.SUPPORT, reason, EventSource.CLI)


async def reconcile(services: Services, *, dry_run: bool) -> PassReport:
    """One reconciler pass now (or, dry, what it would touch)."""
    return await run_pass(services.generation, now=services.generation.now(), dry_run=dry_run)
