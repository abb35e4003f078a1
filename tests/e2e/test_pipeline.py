from __future__ import annotations

from tests.e2e.conftest import SECRETS, USER, Stack, job_state
from trt.domain import JobState


class TestGenerationEndToEnd:
    async def test_start_command_is_answered_through_the_webhook(self, stack: Stack) -> None:
        """/start goes Telegram → webhook → inbox → bot, and the reply reaches the chat."""
        mark = stack.tg.bot_message_mark(USER)
        await stack.tg.send_text(USER, "/start")
        reply = await stack.tg.wait_for_message(USER, after=mark)
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


class TestStartUp:
    async def test_commands_are_published_per_language_and_for_admins(self, stack: Stack):
        """On start the server registers the command list in ru and en, and the admin list."""
        calls = stack.tg.calls_to("setMyCommands")
        languages = {c.params.get("language_code") for c in calls}
        assert {"ru", "en"} <= languages
        admin_lists = [c for c in calls if "chat" in str(c.params.get("scope"))]
        assert admin_lists, "no admin-scoped command list"
        assert any("grant" in str(c.params.get("commands")) for c in admin_lists)

    async def test_webhook_is_registered_with_the_secret_token(self, stack: Stack) -> None:
        """setWebhook carries the secret token Telegram will echo in every update."""
        [call] = stack.tg.calls_to("setWebhook")
        assert call.params["secret_token"] == SECRETS["webhook_secret_token"]
