"""Telegram's limits in the emulator: sizes, formatting, edits, flood control, blocking."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.sandbox.telegram.conftest import aiogram_bot
from trt.sandbox.telegram import ManualClock, TelegramEmulator, run_telegram_emulator

USER = 7


def one_button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data=data)]]
    )


class TestContentLimits:
    async def test_text_of_4096_characters_is_accepted(self, tg: TelegramEmulator, bot: Bot):
        """A text of exactly 4096 characters goes through."""
        tg.user(USER)
        assert (await bot.send_message(USER, "a" * 4096)).text == "a" * 4096

    async def test_text_over_4096_characters_is_too_long(self, tg: TelegramEmulator, bot: Bot):
        """A text of 4097 characters is 'message is too long'."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(USER, "a" * 4097)

    async def test_length_counts_text_after_html_parsing(self, tg: TelegramEmulator, bot: Bot):
        """Tags do not count towards the 4096 limit, as in Telegram."""
        tg.user(USER)
        sent = await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
        assert sent.text is not None and len(sent.text) == 4096

    async def test_caption_over_1024_characters_is_too_long(self, tg: TelegramEmulator, bot: Bot):
        """A caption of 1025 characters is refused."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="message caption is too long"):
            await bot.send_document(USER, "https://example.com/a.pdf", caption="c" * 1025)

    async def test_callback_data_over_64_bytes_is_invalid(self, tg: TelegramEmulator, bot: Bot):
        """callback_data of 65 bytes is BUTTON_DATA_INVALID; 64 bytes is fine."""
        tg.user(USER)
        await bot.send_message(USER, "ok", reply_markup=one_button("d" * 64))
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "no", reply_markup=one_button("d" * 65))

    async def test_callback_data_is_measured_in_bytes(self, tg: TelegramEmulator, bot: Bot):
        """33 Cyrillic letters are 66 bytes, so they are over the limit."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "no", reply_markup=one_button("я" * 33))

    @pytest.mark.parametrize(
        ("text", "mode", "reason"),
        [
            ("<b>bold", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
            ("<b>x</i>", "HTML", "Unmatched end tag"),
            ("x</b>", "HTML", "Unexpected end tag"),
            ("<blink>x</blink>", "HTML", 'Unsupported start tag "blink"'),
            ("Price 1.5", "MarkdownV2", "Character '.' is reserved"),
            ("*bold", "MarkdownV2", "Can't find end of Bold entity"),
            ("_x", "Markdown", "Can't find end of the entity"),
        ],
    )
    async def test_malformed_markup_cannot_be_parsed(
        self, tg: TelegramEmulator, bot: Bot, text, mode, reason
    ):
        """Malformed HTML or Markdown is 'can't parse entities' with Telegram's reason."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="can't parse entities") as error:
            await bot.send_message(USER, text, parse_mode=mode)
        assert reason in error.value.message

    async def test_escaped_markdown_v2_is_fine(self, tg: TelegramEmulator, bot: Bot):
        """Escaped reserved characters pass and come back unescaped."""
        tg.user(USER)
        assert (
            await bot.send_message(USER, r"Price 1\.5 *now*", parse_mode="MarkdownV2")
        ).text == "Price 1.5 now"


class TestEdits:
    async def test_identical_edit_is_not_modified(self, tg: TelegramEmulator, bot: Bot):
        """Editing to the same text and keyboard is 'message is not modified'."""
        tg.user(USER)
        sent = await bot.send_message(USER, "same", reply_markup=one_button("a"))
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text(
                "same", chat_id=USER, message_id=sent.message_id, reply_markup=one_button("a")
            )

    async def test_edit_of_unknown_message_is_not_found(self, tg: TelegramEmulator, bot: Bot):
        """Editing a message that does not exist is 'message to edit not found'."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=99)

    async def test_edit_of_deleted_message_is_not_found(self, tg: TelegramEmulator, bot: Bot):
        """A deleted message can no longer be edited."""
        tg.user(USER)
        sent = await bot.send_message(USER, "gone")
        await bot.delete_message(USER, sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=sent.message_id)

    async def test_reply_markup_edit_replaces_buttons(self, tg: TelegramEmulator, bot: Bot):
        """editMessageReplyMarkup swaps the keyboard and keeps the text."""
        tg.user(USER)
        sent = await bot.send_message(USER, "pick", reply_markup=one_button("a"))
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=sent.message_id, reply_markup=one_button("b")
        )
        message = tg.chat(USER).get(sent.message_id)
        assert (message.text, [b.callback_data for b in message.buttons()]) == ("pick", ["b"])

    async def test_caption_edit_on_a_text_message_is_refused(self, tg: TelegramEmulator, bot: Bot):
        """A text message has no caption to edit."""
        tg.user(USER)
        sent = await bot.send_message(USER, "text")
        with pytest.raises(TelegramBadRequest, match="no caption in the message"):
            await bot.edit_message_caption(chat_id=USER, message_id=sent.message_id, caption="c")


class TestFloodControl:
    async def test_per_chat_burst_then_429_with_retry_after(self, tg: TelegramEmulator, bot: Bot):
        """After the chat's burst the next send is a 429 that aiogram raises with retry_after."""
        tg.user(USER)
        for i in range(3):
            await bot.send_message(USER, f"m{i}")
        with pytest.raises(TelegramRetryAfter) as error:
            await bot.send_message(USER, "one too many")
        assert error.value.retry_after == 1
        assert tg.calls[-1].error_code == 429

    async def test_chat_bucket_refills_with_the_clock(
        self, tg: TelegramEmulator, bot: Bot, clock: ManualClock
    ):
        """One second on the emulator's clock lets one more message through."""
        tg.user(USER)
        for i in range(3):
            await bot.send_message(USER, f"m{i}")
        await tg.advance(1)
        await bot.send_message(USER, "after a second")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(USER, "too soon")

    async def test_refused_send_is_not_stored(self, tg: TelegramEmulator, bot: Bot):
        """A message refused by flood control never appears in the chat."""
        tg.user(USER)
        for i in range(3):
            await bot.send_message(USER, f"m{i}")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(USER, "dropped")
        assert tg.chat(USER).texts() == ["m0", "m1", "m2"]

    async def test_per_bot_limit_spans_chats(self, tg: TelegramEmulator, bot: Bot):
        """Thirty messages to thirty chats pass; the thirty-first in the same second is a 429."""
        for user_id in range(100, 131):
            tg.user(user_id)
        for user_id in range(100, 130):
            await bot.send_message(user_id, "hi")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(130, "hi")

    async def test_group_allows_twenty_per_minute(self, tg: TelegramEmulator, bot: Bot):
        """A group's bucket refills at 20 per minute, so the wait after its burst is 3 s."""
        group = tg.group()
        for i in range(5):
            await bot.send_message(group.id, f"g{i}")
        with pytest.raises(TelegramRetryAfter) as error:
            await bot.send_message(group.id, "more")
        assert error.value.retry_after == 3

    async def test_flood_limits_can_be_switched_off(self):
        """With flood_limits=False a hundred sends to one chat all pass."""
        async with run_telegram_emulator(clock=ManualClock(), flood_limits=False) as tg:
            tg.user(USER)
            bot = aiogram_bot(tg)
            try:
                for i in range(100):
                    await bot.send_message(USER, f"m{i}")
            finally:
                await bot.session.close()
        assert len(tg.chat(USER).bot_messages()) == 100


class TestBlockedUser:
    async def test_sends_to_a_blocked_user_are_forbidden(self, tg: TelegramEmulator, bot: Bot):
        """A user who blocked the bot makes sends a 403 that aiogram raises as Forbidden."""
        tg.user(USER)
        tg.block(USER)
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(USER, "hello?")
        with pytest.raises(TelegramForbiddenError):
            await bot.send_photo(USER, "https://example.com/p.jpg")

    async def test_unblocking_restores_delivery(self, tg: TelegramEmulator, bot: Bot):
        """After unblocking, sends go through again."""
        tg.user(USER, blocked=True)
        tg.block(USER, blocked=False)
        assert (await bot.send_message(USER, "back")).text == "back"
