from __future__ import annotations

from tests.e2e.conftest import USER, Stack, job_state
from trt.domain import JobState


class TestGenerationEndToEnd:
    async def test_start_command_is_answered_through_the_webhook(self, stack: Stack) -> None:
        """/start goes Telegram → webhook → inbox → bot, and the reply reaches the chat."""
        await stack.tg.send_text(USER, "/start")
        reply = await stack.tg.wait_for_message(USER)
        assert "100 ⭐" in (reply.text or "")

    async def test_job_runs_to_delivery_and_charges_the_quote(self, stack: Stack) -> None:
        """A job runs quote → … → delivered and the balance drops by exactly the quote."""
        gen = stack.services.generation
        quote = gen.quote("google/nano-banana", {"prompt": "a cat"})
        job = await gen.start(USER, quote, chat_id=USER)
        photo = await stack.tg.wait_for_message(USER, lambda m: m.kind == "photo")
        assert "⭐" in (photo.caption or "")
        await job_state(stack, job.id, JobState.DELIVERED)
        final = await stack.services.store.jobs.get(job.id)
        assert final.state is JobState.DELIVERED
        assert final.result_file_id
        user = await stack.services.store.users.get(USER)
        assert (user.balance, user.held) == (100 - quote.stars, 0)
        states = [e.to_state for e in await stack.services.store.jobs.events(job.id)]
        assert states[:4] == [
            JobState.QUOTED,
            JobState.HELD,
            JobState.SUBMITTING,
            JobState.SUBMITTED,
        ]
        assert states[-2:] == [JobState.SUCCEEDED, JobState.DELIVERED]
