"""aiogram's own client against the emulator: the shapes are what aiogram parses."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaLivePhoto,
    InputMediaPhoto,
    InputMediaVideo,
    LabeledPrice,
)

from tests.sandbox.telegram.conftest import LocalSite, png
from trt.sandbox.telegram import TelegramEmulator

USER = 42
MediaItem = (
    InputMediaAudio | InputMediaDocument | InputMediaLivePhoto | InputMediaPhoto | InputMediaVideo
)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


class TestBotIdentity:
    async def test_get_me_describes_the_emulated_bot(self, tg: TelegramEmulator, bot: Bot):
        """getMe returns a bot user whose id is the token's numeric part."""
        me = await bot.get_me()
        assert (me.id, me.is_bot, me.username) == (123456789, True, "trt_test_bot")

    async def test_commands_round_trip(self, tg: TelegramEmulator, bot: Bot):
        """setMyCommands stores the list per language and getMyCommands returns it."""
        await bot.set_my_commands(
            [BotCommand(command="start", description="Begin")], language_code="ru"
        )
        assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start"]
        assert await bot.get_my_commands() == []


class TestMessages:
    async def test_send_message_with_keyboard_is_kept_in_history(
        self, tg: TelegramEmulator, bot: Bot
    ):
        """A sent message comes back parsed and the chat history shows its text and buttons."""
        tg.user(USER)
        sent = await bot.send_message(
            USER, "Pick one", reply_markup=keyboard(("A", "a"), ("B", "b"))
        )
        last = tg.chat(USER).last()
        assert sent.reply_markup is not None
        assert (last.message_id, last.text) == (sent.message_id, "Pick one")
        assert [(b.text, b.callback_data) for b in last.buttons()] == [("A", "a"), ("B", "b")]

    async def test_html_is_stored_as_text_and_entities(self, tg: TelegramEmulator, bot: Bot):
        """HTML formatting becomes plain text plus entities, as Telegram returns it."""
        tg.user(USER)
        sent = await bot.send_message(USER, "<b>Hi</b> &amp; bye", parse_mode="HTML")
        assert sent.text == "Hi & bye"
        assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 2)]

    async def test_edit_text_updates_history_and_drops_the_keyboard(
        self, tg: TelegramEmulator, bot: Bot
    ):
        """editMessageText changes the stored text; without reply_markup the keyboard goes."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Working…", reply_markup=keyboard(("Stop", "stop")))
        edited = await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)
        message = tg.chat(USER).get(sent.message_id)
        assert not isinstance(edited, bool) and edited.edit_date is not None
        assert (message.text, message.buttons(), message.edits) == ("Done", [], 1)

    async def test_delete_removes_the_message_from_live_history(
        self, tg: TelegramEmulator, bot: Bot
    ):
        """deleteMessage marks the message deleted; a second delete is a 400."""
        tg.user(USER)
        sent = await bot.send_message(USER, "bye")
        assert await bot.delete_message(USER, sent.message_id) is True
        assert tg.chat(USER).bot_messages() == []
        with pytest.raises(TelegramBadRequest, match="message to delete not found"):
            await bot.delete_message(USER, sent.message_id)

    async def test_answer_callback_query_is_recorded(self, tg: TelegramEmulator, bot: Bot):
        """A click becomes a callback query the bot can answer once; the answer is kept."""
        tg.user(USER)
        sent = await bot.send_message(USER, "Go?", reply_markup=keyboard(("Go", "go")))
        query_id = await tg.click(USER, sent.message_id, "go")
        assert await bot.answer_callback_query(query_id, text="Going") is True
        assert tg.callback_answers[query_id]["text"] == "Going"
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id)

    async def test_chat_action_needs_a_known_action(self, tg: TelegramEmulator, bot: Bot):
        """sendChatAction accepts Telegram's actions and refuses others."""
        tg.user(USER)
        assert await bot.send_chat_action(USER, "typing") is True
        with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
            await bot.send_chat_action(USER, "dancing")


class TestFiles:
    async def test_photo_upload_has_sizes_and_downloads(self, tg: TelegramEmulator, bot: Bot):
        """An uploaded photo gets a thumbnail and the original; getFile and the download
        return the uploaded bytes."""
        tg.user(USER)
        data = png(800, 600)
        sent = await bot.send_photo(USER, BufferedInputFile(data, "pic.png"), caption="Here")
        assert sent.photo is not None
        assert [(p.width, p.height) for p in sent.photo] == [(90, 68), (800, 600)]
        file = await bot.get_file(sent.photo[-1].file_id)
        downloaded = await bot.download_file(file.file_path or "")
        assert downloaded is not None and downloaded.read() == data
        assert file.file_size == len(data)
        last = tg.chat(USER).last()
        assert (last.kind, last.caption, last.file and last.file.data) == ("photo", "Here", data)

    async def test_photo_by_local_url_is_fetched(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """A photo sent by a 127.0.0.1 URL is recorded with its URL and fetched bytes."""
        tg.user(USER)
        site.media["cat.png"] = png(100, 50)
        url = f"{site.url}/media/cat.png"
        await bot.send_photo(USER, url)
        stored = tg.chat(USER).last().file
        assert stored is not None and (stored.url, stored.data) == (url, png(100, 50))

    async def test_missing_local_url_is_refused(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """A local URL that answers 404 is Telegram's 'failed to get HTTP URL content'."""
        tg.user(USER)
        with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
            await bot.send_photo(USER, f"{site.url}/media/none.png")

    async def test_remote_url_is_recorded_not_fetched(self, tg: TelegramEmulator, bot: Bot):
        """A non-local URL is kept as a URL and never fetched."""
        tg.user(USER)
        await bot.send_video(USER, "https://example.com/clip.mp4")
        stored = tg.chat(USER).last().file
        assert stored is not None and (stored.url, stored.data) == (
            "https://example.com/clip.mp4",
            None,
        )

    async def test_file_id_resend_reuses_the_file(self, tg: TelegramEmulator, bot: Bot):
        """Sending a known file_id again points at the same stored file."""
        tg.user(USER)
        first = await bot.send_document(USER, BufferedInputFile(b"report", "r.txt"))
        assert first.document is not None
        again = await bot.send_document(USER, first.document.file_id)
        assert again.document is not None and again.document.file_id == first.document.file_id
        assert again.document.file_name == "r.txt"

    async def test_media_group_shares_a_group_id(self, tg: TelegramEmulator, bot: Bot):
        """sendMediaGroup returns one message per item with one media_group_id."""
        tg.user(USER)
        items: list[MediaItem] = [
            InputMediaPhoto(media=BufferedInputFile(png(), f"{i}.png")) for i in range(3)
        ]
        sent = await bot.send_media_group(USER, items)
        assert len(sent) == 3 and len({m.media_group_id for m in sent}) == 1
        assert len(tg.chat(USER).bot_messages()) == 3

    async def test_edit_media_replaces_the_file(self, tg: TelegramEmulator, bot: Bot):
        """editMessageMedia swaps the stored file and caption of a media message."""
        tg.user(USER)
        sent = await bot.send_photo(USER, BufferedInputFile(png(10, 10), "a.png"), caption="old")
        media = InputMediaPhoto(media=BufferedInputFile(png(20, 20), "b.png"), caption="new")
        await bot.edit_message_media(media, chat_id=USER, message_id=sent.message_id)
        message = tg.chat(USER).get(sent.message_id)
        assert message.file is not None and message.file.data == png(20, 20)
        assert (message.caption, message.edits) == ("new", 1)

    async def test_voice_and_audio_by_upload(self, tg: TelegramEmulator, bot: Bot):
        """sendVoice and sendAudio store uploads with their stated duration."""
        tg.user(USER)
        voice = await bot.send_voice(USER, BufferedInputFile(b"ogg", "v.ogg"), duration=4)
        audio = await bot.send_audio(USER, BufferedInputFile(b"mp3", "s.mp3"), duration=9)
        assert voice.voice is not None and voice.voice.duration == 4
        assert audio.audio is not None and (audio.audio.duration, audio.audio.file_name) == (
            9,
            "s.mp3",
        )


class TestPayments:
    async def test_send_invoice_in_stars(self, tg: TelegramEmulator, bot: Bot):
        """An XTR invoice becomes an invoice message with its total."""
        tg.user(USER)
        sent = await bot.send_invoice(
            USER, "Top-up", "100 stars", "topup:100", currency="XTR",
            prices=[LabeledPrice(label="100 ⭐", amount=100)],
        )  # fmt: skip
        assert sent.invoice is not None and (sent.invoice.currency, sent.invoice.total_amount) == (
            "XTR",
            100,
        )
        assert tg.chat(USER).last().payload == "topup:100"

    async def test_stars_invoice_takes_exactly_one_price(self, tg: TelegramEmulator, bot: Bot):
        """Two prices on an XTR invoice are refused."""
        tg.user(USER)
        prices = [LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=2)]
        with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
            await bot.send_invoice(USER, "T", "D", "p", currency="XTR", prices=prices)

    async def test_create_invoice_link_returns_a_link(self, tg: TelegramEmulator, bot: Bot):
        """createInvoiceLink returns a t.me link the emulator remembers."""
        link = await bot.create_invoice_link(
            "T", "D", "p", currency="XTR", prices=[LabeledPrice(label="x", amount=5)]
        )
        assert link.startswith("https://t.me/$") and tg.invoice_links[link]["total_amount"] == 5

    async def test_paid_invoice_refunds_once(self, tg: TelegramEmulator, bot: Bot):
        """A paid invoice walks pre-checkout → successful_payment; the charge refunds once."""
        tg.user(USER)
        invoice = await bot.send_invoice(
            USER, "T", "D", "topup:5", currency="XTR", prices=[LabeledPrice(label="x", amount=5)]
        )
        paying = asyncio.create_task(tg.pay(USER, invoice.message_id))
        (update,) = await bot.get_updates(timeout=5)
        assert update.pre_checkout_query is not None
        assert update.pre_checkout_query.invoice_payload == "topup:5"
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
        payment = await paying
        (receipt,) = await bot.get_updates(offset=update.update_id + 1, timeout=5)
        paid = receipt.message and receipt.message.successful_payment
        assert (
            paid
            and paid.telegram_payment_charge_id == payment.charge_id
            and paid.total_amount == 5
        )
        assert await bot.refund_star_payment(USER, paid.telegram_payment_charge_id) is True
        with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
            await bot.refund_star_payment(USER, paid.telegram_payment_charge_id)


class TestWebhookMethods:
    async def test_set_get_delete_webhook(self, tg: TelegramEmulator, bot: Bot, site: LocalSite):
        """setWebhook shows in getWebhookInfo until deleteWebhook clears it."""
        await bot.set_webhook(f"{site.url}/hook", secret_token="s3cret", drop_pending_updates=True)
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (f"{site.url}/hook", 0)
        assert await bot.delete_webhook() is True
        assert (await bot.get_webhook_info()).url == ""

    async def test_webhook_to_another_host_is_refused(self, tg: TelegramEmulator, bot: Bot):
        """The emulator delivers only to this machine, so other hosts are a bad webhook."""
        with pytest.raises(TelegramBadRequest, match="bad webhook"):
            await bot.set_webhook("https://example.com/hook")
