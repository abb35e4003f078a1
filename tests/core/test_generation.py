from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.core.conftest import CHAT, USER, Rig
from trt.core.failures import FailureReason, reason_of
from trt.core.ports import DeliveryFailed
from trt.core.request import PLACEHOLDER_CALLBACK_URL, MediaFile
from trt.domain import EventSource, Family, JobState, KieTaskId
from trt.errors import InsufficientBalance, InvalidParameters, ModelNotFound
from trt.kie.errors import KieInsufficientCredits, KieTimeout, KieValidationError
from trt.kie.states import TaskState

MODEL = "google/nano-banana"


async def started(rig: Rig, **raw: str):
    quote = rig.gen.quote(MODEL, {"prompt": "a cat", **raw})
    return quote, await rig.gen.start(USER, quote, chat_id=CHAT)


class TestQuoteAndStart:
    def test_quote_prices_from_the_registry(self, rig: Rig) -> None:
        """Nano Banana's 4 credits become ceil(4 × 0.005 × 1.5 / 0.013) = 3 Stars."""
        quote = rig.gen.quote(MODEL, {"prompt": "a cat"})
        assert (quote.credits, quote.stars) == (Decimal(4), 3)
        assert quote.params["aspect_ratio"] == "1:1"

    def test_bad_parameters_name_the_field(self, rig: Rig) -> None:
        """A value outside the enum is refused naming the field and what is allowed."""
        with pytest.raises(InvalidParameters, match="aspect_ratio"):
            rig.gen.quote(MODEL, {"prompt": "x", "aspect_ratio": "7:7"})

    def test_unknown_model_suggests(self, rig: Rig) -> None:
        """An unknown model id is refused with close ids suggested."""
        with pytest.raises(ModelNotFound, match="google/nano-banana"):
            rig.gen.quote("google/nano-banan", {"prompt": "x"})

    async def test_start_holds_and_submits_with_callback(self, rig: Rig) -> None:
        """Starting holds the price and sends the task to the Market endpoint with a callback."""
        quote, job = await started(rig)
        assert job.state is JobState.SUBMITTED
        assert job.kie_task_id is not None
        [request] = rig.kie.submitted
        assert (request.family, request.model) == (Family.MARKET, MODEL)
        assert request.callback_url == "https://bot.example/callbacks/kie/tok"
        assert request.input["prompt"] == "a cat"
        user = await rig.store.users.get(USER)
        assert (user.balance, user.held) == (100 - quote.stars, quote.stars)

    async def test_insufficient_balance_submits_nothing(self, rig: Rig) -> None:
        """A user who cannot pay gets a clear refusal and KIE is never called."""
        quote = rig.gen.quote("veo-3.1/quality", {"prompt": "a film"})
        assert quote.stars > 100
        with pytest.raises(InsufficientBalance):
            await rig.gen.start(USER, quote, chat_id=CHAT)
        assert rig.kie.submitted == []

    async def test_media_is_uploaded_and_replaced_by_urls(self, rig: Rig) -> None:
        """Image inputs are uploaded to KIE first and the task receives their URLs."""
        quote = rig.gen.quote("google/nano-banana-edit", {"prompt": "hat", "image_urls": ["x"]})
        cat = MediaFile("cat.png", b"\x89PNG cat", "image/png")
        dog = MediaFile("dog.png", b"\x89PNG dog", "image/png")
        await rig.gen.start(USER, quote, chat_id=CHAT, media={"image_urls": [cat, dog]})
        assert len(rig.kie.uploads) == 2
        [request] = rig.kie.submitted
        assert request.input["image_urls"] == [u.url for u in rig.kie.uploads]

    async def test_suno_without_public_url_gets_a_placeholder_callback(self, rig: Rig) -> None:
        """Suno requires a callback URL; with none configured a harmless placeholder is sent."""
        rig.gen.callback_url = None
        spec_id = next(s.id for s in rig.gen.registry.visible() if s.family.value == "suno")
        quote = rig.gen.quote(spec_id, {"prompt": "a song"})
        await rig.gen.start(USER, quote, chat_id=CHAT)
        assert rig.kie.submitted[0].callback_url == PLACEHOLDER_CALLBACK_URL


class TestCreationFailures:
    async def test_402_releases_tells_user_and_alerts_admins(self, rig: Rig) -> None:
        """KIE out of credits: the job fails, Stars return, the user and admins hear of it."""
        rig.kie.fail_next("create_task", KieInsufficientCredits(200, 402, "no credits"))
        _, job = await started(rig)
        assert job.state is JobState.RELEASED
        assert reason_of(job.error) is FailureReason.PROVIDER_OUT_OF_CREDITS
        assert (await rig.store.users.get(USER)).balance == 100
        assert [j.id for j in rig.messenger.failures] == [job.id]
        assert "out of credits" in rig.messenger.alerts[0]

    async def test_validation_refusal_is_a_rejection(self, rig: Rig) -> None:
        """A 422 at creation for content fails the job as refused by the content filter and
        releases the hold; one for a parameter as an invalid input, naming it."""
        rig.kie.fail_next("create_task", KieValidationError(200, 422, "flagged"))
        _, job = await started(rig)
        assert reason_of(job.error) is FailureReason.CONTENT_REFUSED
        rig.kie.fail_next("create_task", KieValidationError(200, 422, "bad image_size"))
        _, job = await started(rig)
        assert job.error == "invalid_input: bad image_size"
        assert rig.messenger.alerts == []

    async def test_uncertain_creation_is_left_for_the_reconciler(self, rig: Rig) -> None:
        """A timeout after the request was sent keeps the job submitting (held), not failed."""
        rig.kie.fail_next("create_task", KieTimeout(sent=True))
        _, job = await started(rig)
        assert job.state is JobState.SUBMITTING
        assert (await rig.store.users.get(USER)).held == 3


class TestRecheckAfterCallback:
    """A callback whose record is not final yet (or "recordInfo is null", as KIE answers
    right after creation) is read again within seconds, doubling, not after 120 s."""

    async def _poll_when_due(self, rig: Rig, job_id: str) -> None:
        stored = await rig.store.jobs.get(job_id)
        assert stored.next_check_at is not None
        rig.clock.now = stored.next_check_at  # the reconciler's pass when it is due
        await rig.gen.refresh(stored, source=EventSource.POLL)

    async def _waits(self, rig: Rig, job_id: str) -> timedelta:
        stored = await rig.store.jobs.get(job_id)
        assert stored.next_check_at is not None
        return stored.next_check_at - rig.clock.now

    @pytest.mark.parametrize("first_read", ["generating", "record is null"])
    async def test_settled_seconds_after_the_callback(self, rig: Rig, first_read: str) -> None:
        from trt.kie.errors import KieNotFound

        rig.clock.now = datetime.now(UTC)  # the store stamps rows with the real time
        if first_read == "record is null":  # the first read raises; then two records
            rig.kie.script(TaskState.GENERATING, TaskState.SUCCESS)
            rig.kie.fail_next("get_task", KieNotFound(200, 422, "recordInfo is null"))
        else:
            rig.kie.script(TaskState.GENERATING, TaskState.GENERATING, TaskState.SUCCESS)
        _, job = await started(rig)
        await rig.gen.on_callback(KieTaskId(job.kie_task_id or ""))
        assert await self._waits(rig, job.id) == timedelta(seconds=1)
        rig.clock.now = datetime.now(UTC)
        called_back = rig.clock.now
        await self._poll_when_due(rig, job.id)
        wait = await self._waits(rig, job.id)
        assert timedelta(seconds=1) < wait <= timedelta(seconds=4)  # doubled, not 120 s
        await self._poll_when_due(rig, job.id)
        final = await rig.store.jobs.get(job.id)
        assert final.state is JobState.DELIVERED
        assert rig.clock.now - called_back < timedelta(seconds=10)

    async def test_a_poll_without_a_callback_keeps_the_late_callback_period(
        self, rig: Rig
    ) -> None:
        rig.clock.now = datetime.now(UTC)
        rig.kie.script(TaskState.GENERATING)
        _, job = await started(rig)
        rig.clock.advance(seconds=120)
        await rig.gen.refresh(await rig.store.jobs.get(job.id), source=EventSource.POLL)
        assert await self._waits(rig, job.id) == timedelta(seconds=120)


class TestSettlement:
    async def test_success_charges_and_delivers_once(self, rig: Rig) -> None:
        """A callback settles the job, charges the quoted price and delivers once."""
        quote, job = await started(rig)
        task = KieTaskId(job.kie_task_id or "")
        for _ in range(5):
            await rig.gen.on_callback(task)
        final = await rig.store.jobs.get(job.id)
        assert final.state is JobState.DELIVERED
        assert final.result_file_id == f"file-{job.id}"
        assert len(rig.messenger.delivered) == 1
        user = await rig.store.users.get(USER)
        assert (user.balance, user.held) == (100 - quote.stars, 0)
        assert len(rig.kie.queries) == 1  # the later duplicates found it settled

    async def test_kie_failure_releases(self, rig: Rig) -> None:
        """A failed task releases the hold and tells the user."""
        rig.kie.script(TaskState.FAIL)
        _, job = await started(rig)
        final = await rig.gen.on_callback(KieTaskId(job.kie_task_id or ""))
        assert final is not None
        assert final.state is JobState.RELEASED
        assert (await rig.store.users.get(USER)).balance == 100

    async def test_unknown_task_changes_nothing(self, rig: Rig) -> None:
        """A callback for a task trt never made is ignored."""
        assert await rig.gen.on_callback(KieTaskId("stranger")) is None
        assert rig.kie.queries == []

    async def test_running_until_deadline_then_failed(self, rig: Rig) -> None:
        """A task still generating past the model's deadline is failed and released."""
        rig.kie.script(TaskState.GENERATING)
        _, job = await started(rig)
        running = await rig.gen.refresh(job, source=EventSource.POLL)
        assert running.state is JobState.RUNNING
        rig.clock.advance(seconds=601)
        final = await rig.gen.refresh(running, source=EventSource.POLL)
        assert (final.state, reason_of(final.error)) == (
            JobState.RELEASED,
            FailureReason.TIMED_OUT,
        )

    async def test_failed_delivery_is_retried_later(self, rig: Rig) -> None:
        """A passing delivery failure leaves the job succeeded with a later retry time."""
        rig.messenger.refuse.append(DeliveryFailed("telegram down"))
        _, job = await started(rig)
        job = await rig.gen.on_callback(KieTaskId(job.kie_task_id or "")) or job
        assert job.state is JobState.SUCCEEDED
        again = await rig.store.jobs.get(job.id)
        assert again.delivery_attempts == 1
        assert again.next_check_at == rig.clock.now + timedelta(seconds=30)

    async def test_blocked_user_ends_undeliverable(self, rig: Rig) -> None:
        """A user who blocked the bot: the job ends delivered-as-undeliverable, no retries."""
        rig.messenger.refuse.append(DeliveryFailed("blocked", final=True))
        _, job = await started(rig)
        final = await rig.gen.on_callback(KieTaskId(job.kie_task_id or ""))
        assert final is not None
        assert final.state is JobState.DELIVERED
        events = await rig.store.jobs.events(job.id)
        assert events[-1].detail == "undeliverable: blocked"
