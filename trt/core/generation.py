"""The generation pipeline: quote → hold → upload → submit → settle → deliver.

Used the same way by the bot, the server's callback endpoint, the reconciler and the CLI.
Every state change goes through the store's guarded steps, so repeating any of these
calls (a duplicate callback, a poll racing it, a second instance) changes nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trt.catalog.params import parse_params
from trt.catalog.pricing import Pricing, credits_for
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.core import schedule
from trt.core.controls import Controls
from trt.core.costguard import CostGuard, real_credits
from trt.core.failures import FailureReason, describe, reason_for, reason_from_task
from trt.core.metrics import Metrics
from trt.core.ports import DeliveryFailed, KieApi, Messenger
from trt.core.request import MediaFile, build_request, upload_media
from trt.core.shortfall import undelivered_share
from trt.core.supervisor import Episode
from trt.domain import EventSource, Family, JobId, JobState, KieTaskId, LedgerKind, TgUserId
from trt.errors import InvalidTransition, JobNotFound, KieError, ModelDisabled
from trt.kie.base import TaskRecord
from trt.kie.errors import KieHTTPError, KieInsufficientCredits, KieNotFound, nothing_created
from trt.kie.states import TaskState
from trt.logs import log_event
from trt.records import FreeGrant, JobChanges, JobRecord, NewJob

if TYPE_CHECKING:
    from trt.core.repos import Store

# MediaFile is part of start()'s signature, so callers may import it from here.
__all__ = ["Generation", "MediaFile", "Quote", "utcnow"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Quote:
    """A validated request and its price; the price shown is the price held and charged."""

    spec: ModelSpec
    params: dict[str, Any]
    credits: Decimal
    stars: int


def utcnow() -> datetime:
    return datetime.now(UTC)


class Generation:
    def __init__(
        self,
        *,
        store: Store,
        kie: KieApi,
        registry: Registry,
        pricing: Pricing,
        messenger: Messenger,
        metrics: Metrics,
        callback_url: str | None,
        max_active_jobs: int,
        kie_reads: schedule.RateLimiter,
        free_daily: int = 0,
        late_callback: timedelta = schedule.LATE_CALLBACK_EVERY,
        delivery_lease: timedelta = schedule.DELIVERY_LEASE,
        orphan_grace: timedelta = schedule.ORPHAN_GRACE,
        clock: Callable[[], datetime] = utcnow,
        controls: Controls | None = None,
        cost_guard: CostGuard | None = None,
    ) -> None:
        self.store = store
        # Operators' overrides (disabled models, markups): quotes and starts obey them.
        self.controls = controls if controls is not None else Controls(store.controls, registry)
        self.kie = kie
        self.registry = registry
        self.pricing = pricing
        self.messenger = messenger
        self.metrics = metrics
        self.callback_url = callback_url
        self.max_active_jobs = max_active_jobs
        self.free_daily = free_daily  # free generations a user may have a day
        self._kie_reads = kie_reads
        self._late_callback_every = late_callback
        self.delivery_lease = delivery_lease
        self.orphan_grace = orphan_grace
        # Jobs wait (their Stars held) while KIE cannot say how they are: logged per outage.
        self.kie_reads = Episode("KIE status queries")
        self._clock = clock
        self.cost_guard = cost_guard

    @property
    def _late_callback(self) -> timedelta | None:
        return self._late_callback_every if self.callback_url is not None else None

    def now(self) -> datetime:
        return self._clock()

    def quote(self, model_id: str, raw: Mapping[str, Any]) -> Quote:
        """The price with the model's own markup when it has one (what `start` holds).

        Raises: ModelNotFound, ModelDisabled, InvalidParameters, PriceUnknown.
        """
        spec = self.registry.get(model_id)
        self.controls.require_sellable(spec.id)
        params = parse_params(spec, raw)
        credits = credits_for(spec, params)
        stars = self.pricing_for(spec.id).stars(credits)
        return Quote(spec=spec, params=params, credits=credits, stars=stars)

    def pricing_for(self, model_id: str) -> Pricing:
        """The money settings a model is sold at now (its own markup, or the global one)."""
        return self.controls.pricing(self.pricing, model_id)

    async def start(
        self,
        user_id: TgUserId,
        quote: Quote,
        *,
        chat_id: int | None = None,
        request_key: str | None = None,
        media: Mapping[str, Sequence[MediaFile]] | None = None,
        free_tier: bool = False,
    ) -> JobRecord:
        """Hold the price and submit the task. Raises: InsufficientBalance, TooManyActiveJobs.

        A KIE refusal does not raise: the job fails, the hold is released, the user is told.
        A repeated `request_key` returns the first job, and finishes what its first attempt
        began (a crash between the hold and the submission): one job, one hold. With
        `free_tier` (the bot's users), a free model's job is credited as one of the day's
        free generations while any are left.

        A model disabled since the quote is refused here (ModelDisabled), before any Stars
        move. (A crash replay of a job held but not yet submitted when its model was
        disabled is refused too; the reconciler releases that hold after the grace.)
        """
        now = self._clock()
        new = NewJob(
            user_id=user_id, model_id=quote.spec.id, api_family=quote.spec.family.value,
            params=quote.params, price_stars=quote.stars, kie_credits=float(quote.credits),
            chat_id=chat_id, request_key=request_key,
            deadline_at=now + timedelta(seconds=quote.spec.deadline_seconds),
            next_check_at=now + self.orphan_grace,
        )  # fmt: skip
        self._require_sellable(user_id, quote.spec.id)
        free = None
        if free_tier and quote.spec.free and self.free_daily > 0:
            free = FreeGrant(now.date(), self.free_daily)
        job, created = await self.store.pipeline.open_job(
            new, max_active=self.max_active_jobs, free=free
        )
        if not created and job.state is not JobState.HELD:
            return job  # submitted already, or settled: nothing left to finish
        if created:
            self.metrics.inc("trt_ledger_moves_total", kind="hold")
        try:
            params = await upload_media(
                self.kie, quote.spec, quote.params, media or {}, on_upload=self._uploaded
            )
        except KieError as exc:
            return await self.fail(job.id, FailureReason.UPLOAD_FAILED, str(exc), EventSource.USER)
        return await self._submit(job, quote.spec, params)

    def _require_sellable(self, user_id: TgUserId, model_id: str) -> None:
        """Raises: ModelDisabled (logged: a refused start)."""
        try:
            self.controls.require_sellable(model_id)
        except ModelDisabled as exc:
            log_event(
                logger, "job_refused", user_id=user_id, model=model_id,
                reason=f"model disabled: {exc.reason}",
            )  # fmt: skip
            raise

    def _uploaded(self, _: MediaFile) -> None:
        self.metrics.inc("trt_kie_calls_total", call="upload", result="ok")

    async def _submit(self, job: JobRecord, spec: ModelSpec, params: dict[str, Any]) -> JobRecord:
        orphaned_at = self._clock() + self.orphan_grace
        try:
            job = await self.store.jobs.transition(
                job.id, JobState.SUBMITTING, source=EventSource.USER,
                changes=JobChanges(next_check_at=orphaned_at, extra={"params": params}),
            )  # fmt: skip
        except InvalidTransition:  # a replay, or the reconciler, moved it on first
            return await self.store.jobs.get(job.id)
        try:
            task_id = await self.kie.create_task(build_request(spec, params, self.callback_url))
        except KieError as exc:
            return await self._creation_failed(job, exc)
        self.metrics.inc("trt_kie_calls_total", call="create", result="ok")
        first_look = schedule.next_poll(timedelta(0), late_callback=self._late_callback)
        job = await self.store.jobs.transition(
            job.id, JobState.SUBMITTED, source=EventSource.USER, detail=f"KIE task {task_id}",
            changes=JobChanges(kie_task_id=task_id, next_check_at=self._clock() + first_look),
        )  # fmt: skip
        await self.messenger.progress(job)
        return job

    async def _creation_failed(self, job: JobRecord, exc: KieError) -> JobRecord:
        self.metrics.inc("trt_kie_calls_total", call="create", result=type(exc).__name__)
        if not nothing_created(exc):
            # KIE may have made the task; without its id we cannot follow it, so the job
            # stays `submitting` and the reconciler fails and releases it after the grace.
            logger.warning("createTask for job %s ended uncertainly: %s", job.id, exc)
            return job
        if isinstance(exc, KieInsufficientCredits):
            log_event(
                logger, "kie_out_of_credits", level=logging.ERROR, job_id=job.id,
                user_id=job.user_id, model=job.model_id, reason=str(exc),
            )  # fmt: skip
            await self.messenger.alert_admins(
                f"KIE account is out of credits: job {job.id} failed, its Stars were released"
            )
        detail = exc.detail if isinstance(exc, KieHTTPError) and exc.detail else str(exc)
        return await self.fail(job.id, reason_for(exc), detail, EventSource.USER)

    async def fail(
        self,
        job_id: JobId,
        reason: FailureReason,
        detail: str,
        source: EventSource,
        *,
        record: TaskRecord | None = None,
    ) -> JobRecord:
        """Fail the job, release its hold and tell the user; `record` is KIE's word on a
        task it failed. Raises: InvalidTransition."""
        job = await self.store.pipeline.fail(
            job_id, reason=describe(reason, detail), source=source
        )
        log_event(
            logger, "job_failed", level=logging.WARNING, job_id=job.id, user_id=job.user_id,
            model=job.model_id, reason=job.error, source=source.value,
            fail_code=record.fail_code if record else None,
            fail_msg=record.fail_message if record else None,
        )  # fmt: skip
        self.metrics.inc("trt_ledger_moves_total", kind="release")
        if job.chat_id is not None:
            await self.messenger.progress(job)
            await self.messenger.tell_failure(job)
        return job

    async def on_callback(
        self, task_id: KieTaskId, *, credits: Decimal | None = None
    ) -> JobRecord | None:
        """A callback arrived: settle from the record fetched from KIE (the authority).

        `credits`: the `consumeCredits` a success callback carried, recorded as the job's
        real cost (recordInfo does not say it). Returns None for a task trt does not know.
        """
        try:
            job = await self.store.jobs.get(task_id)
        except JobNotFound:
            logger.info("callback for unknown KIE task %s ignored", task_id)
            return None
        if job.state not in (JobState.SUBMITTED, JobState.RUNNING):
            # settled already: a duplicate callback, or a poll came first without a figure
            await self._late_figure(job, credits)
            return job
        return await self.refresh(job, source=EventSource.CALLBACK, credits=credits)

    async def refresh(
        self, job: JobRecord, *, source: EventSource, credits: Decimal | None = None
    ) -> JobRecord:
        """Ask KIE about the job once and act on the answer (`credits`: see on_callback)."""
        assert job.kie_task_id is not None
        await self._kie_reads.wait()
        try:
            record = await self.kie.get_task(Family(job.api_family), KieTaskId(job.kie_task_id))
        except KieError as exc:
            self.metrics.inc("trt_kie_calls_total", call="record", result=type(exc).__name__)
            if not isinstance(exc, KieNotFound):  # KIE away: one line per outage, not per job
                self.kie_reads.failed(exc)
            return await self._not_final(job, source)
        self.kie_reads.ok()
        self.metrics.inc("trt_kie_calls_total", call="record", result="ok")
        return await self.settle(job, record, source=source, credits=credits)

    async def settle(
        self,
        job: JobRecord,
        record: TaskRecord,
        *,
        source: EventSource,
        credits: Decimal | None = None,
    ) -> JobRecord:
        if record.state is TaskState.SUCCESS and record.result_urls:
            return await self._succeeded(job, record, source, credits)
        if record.state.is_final:
            detail = record.fail_message or record.fail_code or "no result"
            reason = reason_from_task(record.fail_code, record.fail_message)
            return await self._fail_quietly(job, reason, detail, source, record=record)
        return await self._not_final(job, source)

    async def _succeeded(
        self, job: JobRecord, record: TaskRecord, source: EventSource, reported: Decimal | None
    ) -> JobRecord:
        real, origin = real_credits(record, reported)
        try:
            job = await self.store.pipeline.succeed(
                job.id, result_urls=record.result_urls, real_credits=real,
                credits_source=origin, source=source,
                next_check_at=self._clock() + self.delivery_lease,
            )  # fmt: skip
        except InvalidTransition:
            job = await self.store.jobs.get(job.id)  # another caller settled it first
            await self._late_figure(job, reported)
            return job
        self.metrics.inc("trt_ledger_moves_total", kind="charge")
        await self._return_undelivered(job, source)
        await self.messenger.progress(job)
        job = await self.deliver(job)
        if real is not None:  # after the delivery: the user never waits on the guard
            await self._guard(job.model_id)
        return job

    async def _late_figure(self, job: JobRecord, credits: Decimal | None) -> None:
        """A callback's figure for a job settled without one (the poll won the race)."""
        if credits is not None and await self.store.costs.record_late(job.id, float(credits)):
            await self._guard(job.model_id)

    async def _guard(self, model_id: str) -> None:
        if self.cost_guard is not None:
            await self.cost_guard.check_quietly(model_id)

    async def _return_undelivered(self, job: JobRecord, source: EventSource) -> None:
        """Fewer results than paid for: give back the difference to the price of the
        count delivered (ledger `refund_part:<job>`, once)."""
        if job.model_id not in self.registry:
            return
        owed = undelivered_share(
            self.registry.get(job.model_id), job.params, delivered=len(job.result_urls),
            price=job.price_stars, pricing=self.pricing_for(job.model_id),
        )  # fmt: skip
        if owed is None:
            return
        paid, back = owed
        reason = f"{len(job.result_urls)} of {paid} results came back"
        if await self.store.pipeline.refund_part(job.id, back, reason=reason, source=source):
            self.metrics.inc("trt_ledger_moves_total", kind="refund")
            logger.info("job %s: %s; %s ⭐ returned to user %s", job.id, reason, back, job.user_id)

    async def _fail_quietly(
        self,
        job: JobRecord,
        reason: FailureReason,
        detail: str,
        source: EventSource,
        *,
        record: TaskRecord | None = None,
    ) -> JobRecord:
        try:
            return await self.fail(job.id, reason, detail, source, record=record)
        except InvalidTransition:
            return await self.store.jobs.get(job.id)

    async def _not_final(self, job: JobRecord, source: EventSource) -> JobRecord:
        now = self._clock()
        if job.deadline_at is not None and now >= job.deadline_at:
            return await self._fail_quietly(job, FailureReason.TIMED_OUT, "past deadline", source)
        wait = self._next_wait(job, source, now)
        if job.state is JobState.SUBMITTED:
            try:
                job = await self.store.jobs.transition(job.id, JobState.RUNNING, source=source)
            except InvalidTransition:
                return await self.store.jobs.get(job.id)
            await self.messenger.progress(job)
        await self.store.pipeline.schedule(job.id, next_check_at=now + wait)
        return job

    def _next_wait(self, job: JobRecord, source: EventSource, now: datetime) -> timedelta:
        """Seconds after a callback whose record was not final yet, else the schedule."""
        recheck = None
        if source in (EventSource.CALLBACK, EventSource.POLL):
            recheck = schedule.next_recheck(
                after_callback=source is EventSource.CALLBACK,
                since_scheduled=now - job.updated_at,
                late_callback=self._late_callback,
            )
        if recheck is not None:
            logger.info("job %s: record not final after a callback; again in %s", job.id, recheck)
            return recheck
        return schedule.next_poll(now - job.created_at, late_callback=self._late_callback)

    async def was_free(self, job: JobRecord) -> bool:
        """Whether the job was one of the user's free generations (its price credited back
        as a bonus tied to the job), so its result says "free", not its price."""
        entries = await self.store.ledger.entries(job_id=job.id)
        return any(e.kind is LedgerKind.BONUS for e in entries)

    async def returned(self, job: JobRecord) -> int:
        """Stars given back for results that did not come (the caption says so)."""
        entries = await self.store.ledger.entries(job_id=job.id)
        return sum(e.amount for e in entries if e.key.startswith("refund_part:"))

    async def deliver(self, job: JobRecord) -> JobRecord:
        """Send a succeeded job's result; on a passing failure try again later."""
        file_id = None
        if job.chat_id is not None:
            started = time.perf_counter()
            try:
                file_id = await self.messenger.deliver(
                    job, free=await self.was_free(job), returned=await self.returned(job)
                )
            except DeliveryFailed as exc:
                self._delivery_took(started, "final" if exc.final else "retry")
                return await self._delivery_failed(job, exc)
            self._delivery_took(started, "ok")
        self.metrics.inc("trt_deliveries_total", result="ok")
        return await self._mark_delivered(job, file_id, detail=None)

    def _delivery_took(self, started: float, result: str) -> None:
        elapsed = time.perf_counter() - started
        self.metrics.observe("trt_delivery_seconds", elapsed, result=result)

    async def _delivery_failed(self, job: JobRecord, exc: DeliveryFailed) -> JobRecord:
        self.metrics.inc("trt_deliveries_total", result="final" if exc.final else "retry")
        if exc.final:  # e.g. the user blocked the bot: nothing more can be done
            log_event(
                logger, "delivery_failed", level=logging.WARNING, job_id=job.id,
                user_id=job.user_id, model=job.model_id, reason=str(exc), final=True,
            )  # fmt: skip
            return await self._mark_delivered(job, None, detail=f"undeliverable: {exc}")
        log_event(
            logger, "delivery_failed", level=logging.WARNING, job_id=job.id,
            user_id=job.user_id, model=job.model_id, reason=str(exc), final=False,
            attempt=job.delivery_attempts + 1,
        )  # fmt: skip
        wait = schedule.next_delivery(job.delivery_attempts)
        await self.store.pipeline.schedule(
            job.id, next_check_at=self._clock() + wait, delivery_attempt=True
        )
        return job

    async def _mark_delivered(
        self, job: JobRecord, file_id: str | None, detail: str | None
    ) -> JobRecord:
        try:
            return await self.store.jobs.transition(
                job.id, JobState.DELIVERED, source=EventSource.SYSTEM, detail=detail,
                changes=JobChanges(extra={"result_file_id": file_id, "next_check_at": None}),
            )  # fmt: skip
        except InvalidTransition:
            return await self.store.jobs.get(job.id)
