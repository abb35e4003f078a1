"""The bot end to end through `trt serve`: webhook updates in, a photo result out."""

from __future__ import annotations

from tests.e2e.conftest import USER, Stack, eventually
from trt.core.referrals import code_for
from trt.domain import TgUserId
from trt.records import JobFilter
from trt.sandbox.telegram.model import ChatMessage

NEWCOMER = TgUserId(4242)


async def has_button(stack: Stack, prefix: str) -> ChatMessage:
    """Wait until the bot's latest message offers a button starting with `prefix`."""
    found: list[ChatMessage] = []

    async def check() -> bool:
        messages = stack.tg.chat(USER).bot_messages()
        last = messages[-1] if messages else None
        if last is not None and any(b.text.startswith(prefix) for b in last.buttons()):
            found.append(last)
        return bool(found)

    try:
        await eventually(check)
    except TimeoutError:
        raise AssertionError(stack.tg.chat(USER).texts()) from None
    return found[0]


async def press(stack: Stack, prefix: str) -> None:
    message = await has_button(stack, prefix)
    label = next(b.text for b in message.buttons() if b.text.startswith(prefix))
    await stack.tg.click(USER, message.message_id, text=label)


class TestBotOverWebhook:
    async def test_menu_to_photo_result(self, stack: Stack) -> None:
        """/menu → Images → Nano Banana → Start → prompt → Generate → a photo with a caption
        and the result buttons, and exactly one job."""
        await stack.tg.send_text(USER, "/menu")
        await press(stack, "🖼 Images")
        await press(stack, "Nano Banana ·")
        await press(stack, "✨ Start")
        await has_button(stack, "↺ Start over")  # the prompt step is shown
        await stack.tg.send_text(USER, "a red fox in snow")
        await press(stack, "🚀 Generate")
        photo = await stack.tg.wait_for_message(USER, lambda m: m.kind == "photo", timeout=15)
        assert (photo.caption or "").startswith("Nano Banana ·")
        assert [b.text for b in photo.buttons()][:2] == ["🔁 Repeat", "✏️ Change prompt"]
        jobs = await stack.services.store.jobs.find(JobFilter(user_id=USER))
        assert len(jobs) == 1

    async def test_a_first_contact_is_answered_as_new(self, stack: Stack) -> None:
        """A newcomer's first update registers them when it is recorded; the bot answers from
        that record (in their language, by name) and treats them as new: an invitation in
        their first /start binds them to the inviter."""
        stack.tg.user(NEWCOMER, language_code="ru", first_name="Оля")
        await stack.tg.send_text(NEWCOMER, f"/start ref_{code_for(USER)}")
        welcome = await stack.tg.wait_for_message(
            NEWCOMER, lambda m: (m.text or "").startswith("👋"), timeout=10
        )
        assert (welcome.text or "").startswith("👋 Привет, Оля!")
        user = await stack.services.store.users.get(NEWCOMER)
        assert (user.first_name, user.language, user.balance) == ("Оля", "ru", 0)
        assert await stack.services.store.referrals.referrer_of(NEWCOMER) == USER
