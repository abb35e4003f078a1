from __future__ import annotations

from tests.bot.conftest import ADMIN, USER, DriverFactory, fund
from tests.bot.driver import Driver, generate_image
from trt.domain import LedgerKind, TgUserId
from trt.store.sql import SqlStore


class TestHistory:
    async def test_history_lists_jobs_and_resends_a_result(self, en: Driver):
        """/history shows the job; opening it offers "Send again", which re-sends the photo."""
        await generate_image(en)
        [job] = await en.jobs()
        await en.settle(job)
        listing = await en.send("/history")
        assert (listing.text or "").startswith("Your generations")
        when = job.created_at.strftime("%d.%m %H:%M")
        assert listing.buttons()[0].text == f"{when} · «a cat» · Nano Banana · ✅"
        await en.click(listing.buttons()[0].text)
        await en.click("📤 Send again")
        assert en.last().kind == "photo"

    async def _sent_again(self, d: Driver, lang: str) -> tuple[str, str]:
        """A delivered result and the same result sent again from /history: captions."""
        await generate_image(d, "a very long prompt about a cat sitting in a hat", lang)
        [job] = await d.jobs()
        await d.settle(job)
        delivered = d.last().caption or ""
        listing = await d.send("/history")
        await d.click(listing.buttons()[0].text)
        await d.click("📤")
        assert d.last().kind == "photo"
        return delivered, d.last().caption or ""

    async def test_sent_again_keeps_the_caption_en(self, make_driver: DriverFactory, store):
        """The re-sent result keeps its key parameters and, in emulator mode, the note that
        it is a test result; the history button shows a short prompt."""
        await fund(store, USER, 100)
        d = make_driver(kie_mode="emulator")
        delivered, again = await self._sent_again(d, "en")
        assert again == delivered
        assert "1:1" in again and "⚠️ KIE emulator: this is a test result" in again
        listing = await d.send("/history")
        assert "«a very long prompt abou…»" in listing.buttons()[0].text

    async def test_sent_again_keeps_the_caption_ru(self, make_driver: DriverFactory, store):
        await fund(store, USER, 100, language="ru")
        d = make_driver(language_code="ru", kie_mode="emulator")
        delivered, again = await self._sent_again(d, "ru")
        assert again == delivered and "⚠️ эмулятор KIE: это тестовый результат" in again

    async def test_empty_history(self, en: Driver):
        """A user without jobs is told so."""
        assert (await en.send("/history")).text == "You have no generations yet."


class TestLanguage:
    async def test_language_switch_is_remembered(self, en: Driver):
        """/language → Русский switches every later text."""
        await en.send("/language")
        reply = await en.click("Русский")
        assert (reply.text or "").startswith("Язык: русский.")
        assert (await en.services.store.users.get(USER)).language == "ru"
        assert (
            await en.send("/balance")
        ).text == "Баланс: 100 ⭐\n🎁 Бесплатных генераций сегодня: 1"

    async def test_ukrainian_speakers_get_russian(self, make_driver: DriverFactory):
        """ru for ru/uk/be/kk Telegram languages."""
        d = make_driver(7002, "uk")
        assert (await d.send("/start")).text.startswith("👋 Привет")  # type: ignore[union-attr]


class TestAdmin:
    async def test_admin_summary_and_grant(self, make_driver: DriverFactory, store: SqlStore):
        """Admins get /admin and /grant; the grant goes through the ledger."""
        await fund(store, USER, 5)
        admin = make_driver(ADMIN)
        summary = await admin.send("/admin")
        assert (summary.text or "").startswith("Today (UTC)")
        granted = await admin.send(f"/grant {USER} 10 goodwill")
        assert granted.text == f"Granted 10 ⭐ to {USER}; balance now 15 ⭐."
        info = await admin.send(f"/user {USER}")
        assert "Balance: 15 ⭐" in (info.text or "")

    async def _given_and_paid(self, store: SqlStore) -> None:
        """5 ⭐ paid; 10 ⭐ granted and a 3 ⭐ welcome bonus given."""
        await fund(store, USER, 5)
        await store.ledger.credit(USER, 10, kind=LedgerKind.GRANT, key="grant:g", reason="")
        await store.ledger.credit(
            USER, 3, kind=LedgerKind.BONUS, key=f"bonus:welcome:{USER}", reason=""
        )

    async def test_admin_separates_paid_from_given_en(
        self, make_driver: DriverFactory, store: SqlStore
    ):
        await self._given_and_paid(store)
        text = (await make_driver(ADMIN).send("/admin")).text or ""
        assert "Stars paid: 5 ⭐\nGiven: 13 ⭐ — grants 10 ⭐ · bonuses 3 ⭐ (welcome 3," in text

    async def test_admin_separates_paid_from_given_ru(
        self, make_driver: DriverFactory, store: SqlStore
    ):
        await self._given_and_paid(store)
        text = (await make_driver(ADMIN, "ru").send("/admin")).text or ""
        assert "Звёзд оплачено: 5 ⭐\nВыдано: 13 ⭐ — начисления 10 ⭐ · бонусы 3 ⭐" in text

    async def test_non_admins_get_no_hint(self, en: Driver):
        """For a non-admin /admin is unknown text: the usual hint and menu."""
        reply = await en.send("/admin")
        assert (reply.text or "").startswith("I did not get that.")


class TestOtherChats:
    async def test_group_gets_a_pointer_to_the_private_chat(self, en: Driver):
        """In a group only commands get an answer: a link to the private chat."""
        en.chat = en.tg.group()
        reply = await en.send("/start")
        assert reply.text == "I work in a private chat: https://t.me/trt_test_bot"
        await en.send("hello")
        assert len(en.history()) == 1

    async def test_banned_user_is_answered_once(self, en: Driver):
        """A banned user is told once, then ignored."""
        await en.services.store.users.set_banned(TgUserId(USER), True)
        assert (await en.send("/start")).text == "Your access to this bot is suspended."
        await en.send("/menu")
        assert len(en.history()) == 1


class TestAlerts:
    async def test_low_kie_credits_alert_the_admins(self, en: Driver, kie):
        """After a generation, credits under LOW_KIE_CREDITS_ALERT alert the admin chat."""
        from decimal import Decimal

        kie.balance = Decimal(5)
        en.tg.user(ADMIN)
        await generate_image(en)
        alerts = en.tg.chat(ADMIN).texts()
        assert alerts == ["⚠️ KIE credits are low: 5 left (alert threshold 1000)"]
