"""/settings (announcements on or off), /broadcast in the admin chat, and the announcer
that sends broadcasts and their reports through the bot."""

from __future__ import annotations

from aiogram import Bot

from tests.bot.conftest import ADMIN, USER, DriverFactory
from tests.bot.driver import Driver
from trt.bot.announcer import TelegramAnnouncer
from trt.bot.flood import watch_blocked
from trt.domain import BroadcastState, RecipientState, TgUserId
from trt.sandbox.telegram.core import TelegramEmulator
from trt.store.sql import SqlStore


class TestSettings:
    async def test_announcements_toggle(self, en: Driver, store: SqlStore) -> None:
        """/settings shows announcements on; the button turns them off and back on."""
        shown = await en.send("/settings")
        assert "Announcements from the bot: on" in (shown.text or "")
        off = await en.click("🔕 Turn announcements off")
        assert "Announcements from the bot: off" in (off.text or "")
        assert (await store.users.get(USER)).broadcast_opt_out
        await en.click("🔔 Turn announcements on")
        assert not (await store.users.get(USER)).broadcast_opt_out

    async def test_from_the_menu_in_russian(self, ru: Driver) -> None:
        """The main menu's Settings button opens the same screen, in the user's language."""
        await ru.send("/menu")
        shown = await ru.click("⚙️ Настройки")
        assert "Объявления от бота: включены" in (shown.text or "")
        assert [b.text for b in shown.buttons()] == ["🔕 Выключить объявления", "🏠 Меню"]


class TestAdminBroadcast:
    async def _draft(self, make_driver: DriverFactory, store: SqlStore, text: str) -> Driver:
        await store.users.ensure(TgUserId(USER), language="en")
        admin = make_driver(ADMIN)
        asked = await admin.send("/broadcast")
        assert asked.text is not None and asked.text.startswith("Send the announcement")
        await admin.send(text)
        return admin

    async def test_preview_then_confirm_queues_it(
        self, make_driver: DriverFactory, store: SqlStore
    ) -> None:
        """The text comes back exactly as users will see it, then the count and buttons;
        Confirm queues it with the report addressed to this admin."""
        admin = await self._draft(make_driver, store, "New models <today> & more")
        preview, question = admin.history()[-2:]
        assert preview.text == "New models <today> & more"
        # The admin is a user too: both get it.
        assert [b.text for b in question.buttons()] == ["📣 Send to 2", "✖️ Cancel"]
        done = await admin.click("📣 Send to 2")
        [record] = await store.broadcasts.find()
        assert done.text == f"📣 Broadcast #{record.id} queued for 2 users. " \
            "The report comes here when it is done."  # fmt: skip
        assert (record.text, record.created_by) == ("New models &lt;today&gt; &amp; more",
                                                    f"tg:{ADMIN}")  # fmt: skip
        assert (record.report_chat_id, record.state) == (ADMIN, BroadcastState.QUEUED)

    async def test_confirm_twice_queues_once(
        self, make_driver: DriverFactory, store: SqlStore
    ) -> None:
        """A second press of the same Confirm (a double tap) finds the draft gone."""
        admin = await self._draft(make_driver, store, "Hello")
        confirm = admin.last_with_buttons().buttons()[0].callback_data
        assert confirm is not None
        await admin.click("📣")
        again = await admin.press(confirm)
        assert again.text == "This preview is no longer current."
        assert len(await store.broadcasts.find()) == 1

    async def test_cancel_stores_nothing(
        self, make_driver: DriverFactory, store: SqlStore
    ) -> None:
        admin = await self._draft(make_driver, store, "Hello")
        assert (await admin.click("✖️ Cancel")).text == "Broadcast cancelled; nothing was sent."
        assert await store.broadcasts.find() == []

    async def test_text_telegram_would_refuse(
        self, make_driver: DriverFactory, store: SqlStore
    ) -> None:
        """An over-long text is refused with the reason, and another may be sent."""
        admin = await self._draft(make_driver, store, "x" * 4000 + " " + "y" * 200)
        assert "Telegram takes at most 4096" in (admin.last().text or "")
        await admin.send("Short one")
        assert admin.last().buttons()

    async def test_one_language(self, make_driver: DriverFactory, store: SqlStore) -> None:
        """/broadcast ru counts and queues Russian speakers only; an unknown language is
        explained."""
        await store.users.ensure(TgUserId(USER), language="en")
        admin = make_driver(ADMIN, "ru")
        refused = await admin.send("/broadcast de")
        assert refused.text == "Рассылка идёт всем (/broadcast) или одному языку: " \
            "/broadcast ru или /broadcast en."  # fmt: skip
        await admin.send("/broadcast ru")
        await admin.send("Новости")
        await admin.click("📣 Отправить 1")  # the admin, who reads Russian
        [record] = await store.broadcasts.find()
        assert (record.language, record.total) == ("ru", 1)

    async def test_users_cannot_broadcast(self, en: Driver, store: SqlStore) -> None:
        """/broadcast from a non-admin is not an admin command for them."""
        await en.send("/broadcast")
        await en.send("Everyone look")
        assert await store.broadcasts.find() == []
        assert all("announcement" not in (m.text or "") for m in en.history())


class TestAnnouncer:
    async def test_outcomes(self, tg: TelegramEmulator, bot: Bot, store: SqlStore) -> None:
        """Sent, blocked (and the user marked), or failed when Telegram knows no such chat."""
        tg.user(501)
        tg.user(502)
        tg.block(502)
        await store.users.ensure(TgUserId(502))
        watch_blocked(bot, store.users)
        announcer = TelegramAnnouncer(bot, admin_ids=frozenset({ADMIN}), languages=_english)
        assert await announcer.announce(501, "<b>Hi</b>") == (RecipientState.SENT, None)
        assert tg.chat(501).last().text == "Hi"
        state, why = await announcer.announce(502, "Hi")
        assert state is RecipientState.BLOCKED and "blocked" in (why or "")
        assert (await store.users.get(TgUserId(502))).blocked_bot
        state, why = await announcer.announce(503, "Hi")
        assert state is RecipientState.FAILED and "chat not found" in (why or "")

    async def test_report_to_every_admin_when_started_from_the_cli(
        self, tg: TelegramEmulator, bot: Bot, store: SqlStore
    ) -> None:
        from trt.core import broadcasts

        tg.user(ADMIN)
        record = await broadcasts.queue(store, "Hi", language=None, created_by="cli:x")
        announcer = TelegramAnnouncer(bot, admin_ids=frozenset({ADMIN}), languages=_english)
        await announcer.report(record)
        assert tg.chat(ADMIN).last().text == (
            f"📣 Broadcast #{record.id} finished (0 users): sent 0, blocked the bot 0, "
            "failed 0, skipped (opted out, blocked, banned) 0, unknown (in flight at a crash) 0."
        )


async def _english(user_id: int) -> str | None:
    return "en"
