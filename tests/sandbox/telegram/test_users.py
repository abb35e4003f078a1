"""What users do in the emulator: write, press buttons, send files, pay; in private chats
and groups; through Python and through the /_emulator/ HTTP controls."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice
from aiohttp import ClientSession

from tests.sandbox.telegram.conftest import png
from trt.sandbox.telegram import TelegramEmulator

USER = 21


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data=data)]]
    )


class TestClicks:
    async def test_click_delivers_a_callback_query(self, tg: TelegramEmulator, bot: Bot):
        """Pressing a real button sends a callback_query with the data and the message."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Go?", reply_markup=keyboard("go:1"))
        query_id = await tg.click(USER, sent.message_id, "go:1")
        (update,) = await bot.get_updates()
        query = update.callback_query
        assert query is not None and (query.id, query.data) == (query_id, "go:1")
        assert query.message is not None and query.message.message_id == sent.message_id

    async def test_click_by_label(self, tg: TelegramEmulator, bot: Bot):
        """A button can be pressed by its label."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Go?", reply_markup=keyboard("go:2"))
        await tg.click(USER, sent.message_id, text="Go")
        (update,) = await bot.get_updates()
        assert update.callback_query is not None and update.callback_query.data == "go:2"

    async def test_click_on_a_missing_button_is_refused(self, tg: TelegramEmulator, bot: Bot):
        """Data that no button on the message carries is refused before any update."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Go?", reply_markup=keyboard("go"))
        with pytest.raises(LookupError, match="no button"):
            await tg.click(USER, sent.message_id, "admin:grant")
        assert tg.updates.sent == []

    async def test_forged_click_is_delivered(self, tg: TelegramEmulator, bot: Bot):
        """forge=True delivers tampered data so the bot's validation can be tested."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Go?", reply_markup=keyboard("go"))
        await tg.click(USER, sent.message_id, "admin:grant", forge=True)
        (update,) = await bot.get_updates()
        assert update.callback_query is not None and update.callback_query.data == "admin:grant"

    async def test_click_on_a_deleted_message_is_refused(self, tg: TelegramEmulator, bot: Bot):
        """A deleted message's buttons can no longer be pressed."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Go?", reply_markup=keyboard("go"))
        await bot.delete_message(USER, sent.message_id)
        with pytest.raises(LookupError):
            await tg.click(USER, sent.message_id, "go")


class TestUserFiles:
    async def test_user_photo_can_be_fetched_by_the_bot(self, tg: TelegramEmulator, bot: Bot):
        """A user's photo arrives with sizes whose file_id works with getFile and download."""
        tg.user(USER)
        await tg.send_photo(USER, png(1280, 720), caption="edit this")
        (update,) = await bot.get_updates()
        assert update.message is not None and update.message.photo is not None
        largest = update.message.photo[-1]
        assert (largest.width, largest.height, largest.file_size) == (1280, 720, len(png()))
        file = await bot.get_file(largest.file_id)
        downloaded = await bot.download_file(file.file_path or "")
        assert downloaded is not None and downloaded.read() == png(1280, 720)
        assert update.message.caption == "edit this"

    @pytest.mark.parametrize("kind", ["document", "video", "voice", "audio"])
    async def test_user_files_of_each_kind(self, tg: TelegramEmulator, bot: Bot, kind):
        """Documents, videos, voices and audio arrive under their own message field."""
        tg.user(USER)
        await getattr(tg, f"send_{kind}")(USER, b"\0" * 10, duration=3)
        (update,) = await bot.get_updates()
        media = getattr(update.message, kind)
        assert media is not None and media.file_size == 10
        assert (await bot.get_file(media.file_id)).file_size == 10


class TestGroupsAndUsers:
    async def test_group_message_names_the_group_and_the_user(
        self, tg: TelegramEmulator, bot: Bot
    ):
        """A message in a group carries the group chat and the sending user."""
        user = tg.user(USER, first_name="Ann", username="ann")
        group = tg.group("Fans")
        await tg.send_text(user, "/help@trt_test_bot", chat=group)
        (update,) = await bot.get_updates()
        message = update.message
        assert message is not None and message.from_user is not None
        assert (message.chat.id, message.chat.type, message.chat.title) == (
            group.id,
            "supergroup",
            "Fans",
        )
        assert message.from_user.username == "ann"
        assert message.entities is not None and message.entities[0].length == len(
            "/help@trt_test_bot"
        )
        sent = await bot.send_message(group.id, "Help!")
        assert tg.chat(group).last().message_id == sent.message_id

    async def test_language_code_is_on_every_update(self, tg: TelegramEmulator, bot: Bot):
        """The user's language_code reaches the bot in from."""
        tg.user(USER, language_code="ru")
        await tg.send_text(USER, "привет")
        (update,) = await bot.get_updates()
        assert update.message is not None and update.message.from_user is not None
        assert update.message.from_user.language_code == "ru"

    async def test_wait_for_message_sees_the_next_bot_message(
        self, tg: TelegramEmulator, bot: Bot
    ):
        """wait_for_message returns the bot's next message once it is sent."""
        tg.user(USER)
        await bot.send_message(USER, "old")
        waiting = asyncio.create_task(tg.wait_for_message(USER))
        await bot.send_message(USER, "new")
        assert (await waiting).text == "new"


class TestPayments:
    async def test_refused_pre_checkout_charges_nothing(self, tg: TelegramEmulator, bot: Bot):
        """When the bot answers ok=False the payment fails with its message and no receipt."""
        tg.user(USER)
        invoice = await bot.send_invoice(
            USER, "T", "D", "p", currency="XTR", prices=[LabeledPrice(label="x", amount=3)]
        )
        paying = asyncio.create_task(tg.pay(USER, invoice.message_id))
        (update,) = await bot.get_updates(timeout=5)
        assert update.pre_checkout_query is not None
        await bot.answer_pre_checkout_query(
            update.pre_checkout_query.id, ok=False, error_message="Sold out"
        )
        payment = await paying
        assert (payment.ok, payment.error_message, payment.charge_id) == (False, "Sold out", None)
        assert await bot.get_updates(offset=update.update_id + 1) == []

    async def test_unanswered_pre_checkout_times_out(self, tg: TelegramEmulator, bot: Bot):
        """A bot that never answers fails the payment after the timeout."""
        tg.user(USER)
        invoice = await bot.send_invoice(
            USER, "T", "D", "p", currency="XTR", prices=[LabeledPrice(label="x", amount=3)]
        )
        payment = await tg.pay(USER, invoice.message_id, timeout=0.01)
        assert payment.ok is False and tg.payments == {}

    async def test_invoice_link_can_be_paid(self, tg: TelegramEmulator, bot: Bot):
        """A createInvoiceLink link can be paid like an invoice message."""
        tg.user(USER)
        link = await bot.create_invoice_link(
            "T", "D", "link:7", currency="XTR", prices=[LabeledPrice(label="x", amount=7)]
        )
        paying = asyncio.create_task(tg.pay(USER, link=link))
        (update,) = await bot.get_updates(timeout=5)
        assert update.pre_checkout_query is not None
        assert update.pre_checkout_query.invoice_payload == "link:7"
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
        assert (await paying).ok is True

    async def test_refund_of_an_unknown_charge_is_refused(self, tg: TelegramEmulator, bot: Bot):
        """A charge id the emulator never issued is CHARGE_NOT_FOUND."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
            await bot.refund_star_payment(USER, "stxe-none")


class TestHttpControls:
    async def test_a_browser_can_drive_a_user(
        self, tg: TelegramEmulator, bot: Bot, http: ClientSession
    ):
        """The /_emulator/ endpoints create a user, send text, list the chat and the calls."""
        base = f"{tg.base_url}/_emulator"
        async with http.post(f"{base}/users", json={"id": USER, "language_code": "ru"}) as answer:
            assert (await answer.json())["language_code"] == "ru"
        async with http.post(f"{base}/users/{USER}/messages", json={"text": "/start"}) as answer:
            assert answer.status == 200
        sent = await bot.send_message(USER, "Welcome", reply_markup=keyboard("go"))
        async with http.post(
            f"{base}/users/{USER}/clicks",
            json={"message_id": sent.message_id, "callback_data": "go"},
        ) as answer:
            assert "callback_query_id" in await answer.json()
        async with http.get(f"{base}/chats/{USER}") as answer:
            texts = [m.get("text") for m in await answer.json()]
        assert texts == ["/start", "Welcome"]
        async with http.get(f"{base}/calls") as answer:
            assert [c["method"] for c in await answer.json()] == ["sendMessage"]

    async def test_unknown_user_is_404(self, tg: TelegramEmulator, http: ClientSession):
        """Acting as a user the emulator does not know is a 404 with a reason."""
        async with http.post(
            f"{tg.base_url}/_emulator/users/999/messages", json={"text": "x"}
        ) as answer:
            assert answer.status == 404 and "999" in (await answer.json())["error"]

    async def test_block_endpoint_blocks(self, tg: TelegramEmulator, http: ClientSession):
        """POST .../block marks the user as having blocked the bot."""
        tg.user(USER)
        async with http.post(
            f"{tg.base_url}/_emulator/users/{USER}/block", json={"blocked": True}
        ) as answer:
            assert (await answer.json())["blocked"] is True
        assert tg.users[USER].blocked is True
