"""Settlement over real HTTP: failures release, duplicates settle once, lost callbacks are
caught by the reconciler."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN, USER, Stack, eventually, job_state
from trt.core.failures import FailureReason, reason_of
from trt.domain import JobState
from trt.kie.states import TaskState
from trt.sandbox.kie.emulation import CallbackPlan, Fault, TaskPlan
from trt.store.sql import SqlStore

FAST = {"kie_late_callback_seconds": 0.3, "reconcile_interval_seconds": 0.1}


async def start(stack: Stack, prompt: str = "a cat"):
    gen = stack.services.generation
    return await gen.start(USER, gen.quote("google/nano-banana", {"prompt": prompt}), chat_id=USER)


async def balance(stack: Stack) -> tuple[int, int]:
    user = await stack.services.store.users.get(USER)
    return user.balance, user.held


class TestFailures:
    async def test_kie_failure_releases_and_tells_the_user(self, stack: Stack) -> None:
        """A task KIE fails: the Stars come back and the user reads why (here the content
        filter, so they know to change the prompt rather than retry it)."""
        stack.kie.plan(TaskPlan(outcome="fail", fail_message="NSFW content"))
        job = await start(stack)
        await job_state(stack, job.id, JobState.RELEASED)
        message = await stack.tg.wait_for_message(USER, lambda m: "back" in (m.text or ""))
        assert "content filter refused" in (message.text or "")
        assert await balance(stack) == (100, 0)

    async def test_402_at_creation_alerts_admins(self, stack: Stack) -> None:
        """KIE out of credits: the job fails at once, Stars return, admins get an alert."""
        stack.tg.user(ADMIN)
        stack.kie.inject("create", Fault(code=402))
        job = await start(stack)
        assert job.state is JobState.RELEASED
        assert reason_of(job.error) is FailureReason.PROVIDER_OUT_OF_CREDITS
        alert = await stack.tg.wait_for_message(ADMIN, lambda m: "credits" in (m.text or ""))
        assert "KIE account is out of credits" in (alert.text or "")
        assert await balance(stack) == (100, 0)


@pytest.mark.parametrize("extra_settings", [FAST], indirect=True)
class TestLateAndDuplicateCallbacks:
    async def test_past_deadline_is_failed_and_released(self, stack: Stack) -> None:
        """A task that never finishes is failed at its deadline and the hold released."""
        job = await start(stack)
        stack.kie.set_state(job.kie_task_id or "", TaskState.GENERATING)
        await stack.services.store.pipeline.schedule(job.id, next_check_at=job.created_at)
        store = stack.services.store
        assert isinstance(store, SqlStore)  # a test reaches into the table itself
        async with store.db.transaction() as conn:
            from sqlalchemy import update

            from trt.store.tables import jobs

            await conn.execute(update(jobs).where(jobs.c.id == job.id)
                               .values(deadline_at=job.created_at))  # fmt: skip
        await job_state(stack, job.id, JobState.RELEASED)
        final = await stack.services.store.jobs.get(job.id)
        assert reason_of(final.error) is FailureReason.TIMED_OUT
        assert await balance(stack) == (100, 0)

    async def test_five_shuffled_callbacks_racing_polls_settle_once(self, stack: Stack) -> None:
        """Each callback sent 5 times, shuffled, while the reconciler polls: one charge, one
        delivery per job."""
        stack.kie.hold_callbacks()
        for _ in range(3):
            stack.kie.plan(TaskPlan(callbacks=CallbackPlan(copies=5)))
        jobs = [await start(stack, f"cat {n}") for n in range(3)]
        await eventually(lambda: _held(stack, 15))  # every task finished, 5 callbacks each
        await stack.kie.release_callbacks(order="shuffle")
        for job in jobs:
            await job_state(stack, job.id, JobState.DELIVERED)
        photos = [m for m in stack.tg.chat(USER).bot_messages() if m.kind == "photo"]
        assert len(photos) == 3
        stars = sum(j.price_stars for j in jobs)
        assert await balance(stack) == (100 - stars, 0)
        for job in jobs:
            events = await stack.services.store.jobs.events(job.id)
            assert [e.to_state for e in events].count(JobState.SUCCEEDED) == 1

    async def test_dropped_callbacks_are_settled_by_polling(self, stack: Stack) -> None:
        """With every callback lost, the reconciler still settles and delivers each job."""
        for _ in range(3):  # three: the per-user limit of jobs in progress
            stack.kie.plan(TaskPlan(callbacks=CallbackPlan(drop=True)))
        jobs = [await start(stack, f"dog {n}") for n in range(3)]
        for job in jobs:
            await job_state(stack, job.id, JobState.DELIVERED)
        assert stack.kie.deliveries == []


async def _held(stack: Stack, count: int) -> bool:
    return len(stack.kie.held) >= count
