"""Updates reach the bot by getUpdates long polling or by webhook, as Telegram sends them."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import ClientSession

from tests.sandbox.telegram.conftest import LocalSite, call
from trt.sandbox.telegram import SECRET_HEADER, TelegramEmulator

USER = 11


class TestPolling:
    async def test_updates_have_increasing_ids(self, tg: TelegramEmulator, bot: Bot):
        """Each update gets the next update_id."""
        tg.user(USER)
        await tg.send_text(USER, "one")
        await tg.send_text(USER, "two")
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [1, 2]
        assert [u.message.text for u in updates if u.message] == ["one", "two"]

    async def test_ids_can_restart_anywhere(self, tg: TelegramEmulator):
        """restart_ids numbers the next updates from a given id, higher or lower, as Telegram
        does after a week without updates; an id outside 64 bits is refused."""
        tg.user(USER)
        await tg.send_text(USER, "one")
        tg.updates.restart_ids(9_000_000_000)
        await tg.send_text(USER, "two")
        tg.updates.restart_ids(5)
        await tg.send_text(USER, "three")
        assert [u["update_id"] for u in tg.updates.sent] == [1, 9_000_000_000, 5]
        with pytest.raises(ValueError, match="64-bit"):
            tg.updates.restart_ids(2**63)

    async def test_offset_confirms_earlier_updates(self, tg: TelegramEmulator, bot: Bot):
        """Asking with offset = last id + 1 drops what was read."""
        tg.user(USER)
        await tg.send_text(USER, "one")
        (first,) = await bot.get_updates()
        await tg.send_text(USER, "two")
        updates = await bot.get_updates(offset=first.update_id + 1)
        assert [u.update_id for u in updates] == [first.update_id + 1]

    async def test_long_poll_answers_when_an_update_arrives(self, tg: TelegramEmulator, bot: Bot):
        """A waiting getUpdates returns as soon as the user writes."""
        tg.user(USER)
        polling = asyncio.create_task(bot.get_updates(timeout=30))
        await tg.wait_for(lambda _: tg.updates.polls_waiting == 1)
        await tg.send_text(USER, "/start")
        (update,) = await asyncio.wait_for(polling, 10)
        assert update.message is not None and update.message.text == "/start"

    async def test_long_poll_with_nothing_returns_empty(self, tg: TelegramEmulator, bot: Bot):
        """A long poll with no updates ends empty after its timeout."""
        assert await bot.get_updates(timeout=0) == []

    async def test_get_updates_while_webhook_is_set_is_409(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """getUpdates with a webhook set is Telegram's 409 Conflict."""
        await bot.set_webhook(f"{site.url}/hook")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

    async def test_second_poller_terminates_the_first(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """A second getUpdates ends the first one with 409 'terminated by other getUpdates'."""
        first = asyncio.create_task(call(http, tg, "getUpdates", timeout=30))
        await tg.wait_for(lambda _: tg.updates.polls_waiting == 1)
        second = asyncio.create_task(call(http, tg, "getUpdates", timeout=0))
        status, body = await asyncio.wait_for(first, 10)
        assert (status, body["error_code"]) == (409, 409)
        assert "terminated by other getUpdates request" in body["description"]
        assert (await second)[0] == 200

    async def test_allowed_updates_filters_kinds(self, tg: TelegramEmulator, bot: Bot):
        """With allowed_updates=['callback_query'] new messages are not delivered."""
        tg.user(USER)
        await bot.get_updates(allowed_updates=["callback_query"])
        await tg.send_text(USER, "ignored")
        assert await bot.get_updates() == []


class TestWebhook:
    async def test_update_is_posted_with_the_secret_header(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """With a secret set, each POST carries X-Telegram-Bot-Api-Secret-Token."""
        tg.user(USER, language_code="ru")
        await bot.set_webhook(f"{site.url}/hook", secret_token="s3cret")
        await tg.send_text(USER, "/start")
        ((headers, update),) = await site.wait_for(1)
        assert headers[SECRET_HEADER] == "s3cret"
        assert update["message"]["text"] == "/start"
        assert update["message"]["from"]["language_code"] == "ru"
        assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    async def test_no_secret_means_no_header(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """Without a secret the header is absent."""
        tg.user(USER)
        await bot.set_webhook(f"{site.url}/hook")
        await tg.send_text(USER, "hi")
        ((headers, _),) = await site.wait_for(1)
        assert SECRET_HEADER not in headers

    async def test_non_2xx_is_retried_then_delivered(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """A 500 from the webhook is retried; the retry that gets 200 ends delivery."""
        tg.user(USER)
        site.statuses = [500]
        await bot.set_webhook(f"{site.url}/hook")
        await tg.send_text(USER, "hi")
        received = await site.wait_for(2)
        assert received[0][1]["update_id"] == received[1][1]["update_id"]
        await tg.wait_for(lambda _: len(tg.updates.deliveries) == 2)
        assert [d.status for d in tg.updates.deliveries] == [500, 200]

    async def test_retries_are_bounded_and_reported(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """After the last attempt the update is dropped and getWebhookInfo shows the error."""
        tg.user(USER)
        site.statuses = [502, 502, 502]
        await bot.set_webhook(f"{site.url}/hook")
        await tg.send_text(USER, "hi")
        await tg.wait_for(lambda _: not tg.updates.pending and len(tg.updates.deliveries) == 3)
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 502"

    async def test_updates_queued_before_the_webhook_are_delivered(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """Updates waiting when the webhook is set are delivered in order."""
        tg.user(USER)
        await tg.send_text(USER, "first")
        await tg.send_text(USER, "second")
        await bot.set_webhook(f"{site.url}/hook")
        received = await site.wait_for(2)
        assert [u["message"]["text"] for _, u in received] == ["first", "second"]

    async def test_drop_pending_updates(self, tg: TelegramEmulator, bot: Bot, site: LocalSite):
        """setWebhook(drop_pending_updates=True) discards what was waiting."""
        tg.user(USER)
        await tg.send_text(USER, "old")
        await bot.set_webhook(f"{site.url}/hook", drop_pending_updates=True)
        await tg.send_text(USER, "new")
        ((_, update),) = await site.wait_for(1)
        assert update["message"]["text"] == "new"

    async def test_bad_secret_token_is_refused(
        self, tg: TelegramEmulator, bot: Bot, site: LocalSite
    ):
        """A secret token with characters Telegram forbids is a 400."""
        with pytest.raises(TelegramBadRequest, match="secret token"):
            await bot.set_webhook(f"{site.url}/hook", secret_token="not allowed!")
