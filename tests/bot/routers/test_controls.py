"""The admin chat runs the shop: card buttons and commands for models, maintenance mode;
non-admins see no trace of either, and maintenance starts no job or payment."""

from __future__ import annotations

import pytest

from tests.bot.conftest import ADMIN, USER, DriverFactory, fund
from tests.bot.driver import Driver, screen
from tests.bot.routers.payments_helpers import invoice_for, pay, signed
from trt.domain import TgUserId
from trt.records import JobFilter
from trt.sandbox.telegram.model import ChatMessage
from trt.store.sql import SqlStore

MODEL = "google/nano-banana"


async def open_card(d: Driver) -> ChatMessage:
    await d.send("/menu")
    await d.click("🖼 Images")
    while not any(b.text.startswith("Nano Banana ·") for b in d.last().buttons()):
        await d.click("▶️")
    return await d.click("Nano Banana ·")


async def reply(d: Driver, prompt: ChatMessage, text: str) -> ChatMessage:
    """The user answers `prompt` with Telegram's reply (as a ForceReply makes them)."""
    user = d.tg.user(d.user_id)
    message = d.tg.add_message(
        d.tg.chat(d.user_id), sender=user, text=text,
        extra={"reply_to_message": prompt.to_json()},
    )  # fmt: skip
    d.tg.updates.push("message", message.to_json())
    await d.pump()
    return d.last()


@pytest.fixture
async def admin(make_driver: DriverFactory, store: SqlStore) -> Driver:
    await fund(store, ADMIN, 100)
    return make_driver(ADMIN, "en")


class TestCardButtons:
    async def test_admins_see_disable_and_markup(self, admin: Driver) -> None:
        """An admin's model card carries Disable and Markup above the user's buttons."""
        card = await open_card(admin)
        labels = [b.text for b in card.buttons()]
        assert labels[:2] == ["⛔ Disable (admin)", "💲 Markup (admin)"]
        assert "✨ Start" in labels

    async def test_users_see_no_trace(self, en: Driver) -> None:
        """A user's card has no admin button."""
        card = await open_card(en)
        assert not any("admin" in b.text for b in card.buttons())

    async def test_disable_asks_the_reason_then_takes_the_model_off(
        self, admin: Driver, en: Driver
    ) -> None:
        """Disable → a prompt for the reason → the reply disables the model, audited as
        the admin; it leaves users' catalogue at once."""
        await open_card(admin)
        prompt = await admin.click("⛔ Disable (admin)")
        assert prompt.text == (
            f"⛔ {MODEL}\nWhy disable it? Reply to this message with the reason."
        )
        done = await reply(admin, prompt, "KIE returns errors")
        assert done.text == (
            f"⛔ {MODEL} is disabled: KIE returns errors. It left the catalogue; running "
            "jobs still deliver."
        )
        [action] = await admin.services.store.controls.actions(limit=5)
        assert (action.actor, action.action, action.reason) == (
            f"tg:{ADMIN}", "model.disable", "KIE returns errors",
        )  # fmt: skip
        await admin.send("/menu")  # this process: at once
        assert "[Nano Banana ·" not in screen(await admin.click("🖼 Images"))
        await en.services.controls.refresh()  # another instance: at its next refresh
        await en.send("/menu")
        assert "[Nano Banana ·" not in screen(await en.click("🖼 Images"))

    async def test_markup_asks_the_number(self, admin: Driver) -> None:
        """Markup → a prompt → the reply sets the model's own markup; a bad number is
        refused naming the range."""
        await open_card(admin)
        prompt = await admin.click("💲 Markup (admin)")
        refused = await reply(admin, prompt, "50")
        assert "from 1 to 10" in (refused.text or "")
        done = await reply(admin, prompt, "3")
        assert done.text == f"💲 {MODEL} now sells at markup 3."
        assert admin.services.controls.markup(MODEL) == 3
        card = await open_card(admin)
        assert "5 ⭐" in (card.text or "")  # ceil(4 × 0.005 × 3 / 0.013)

    async def test_enable_from_the_admin_card(self, admin: Driver) -> None:
        """/model shows a disabled model's controls with Enable, which sells it again."""
        await admin.send(f"/disable {MODEL} testing")
        shown = await admin.send(f"/model {MODEL}")
        assert "disabled: testing" in (shown.text or "")
        done = await admin.click("✅ Enable (admin)")
        assert done.text == f"✅ {MODEL} is on sale again."
        assert admin.services.controls.disabled(MODEL) is None


class TestCommands:
    async def test_disable_enable_markup(self, admin: Driver) -> None:
        """/disable ID reason, /markup ID N|reset, /enable ID."""
        await admin.send(f"/disable {MODEL} margin too low")
        assert admin.services.controls.disabled(MODEL) is not None
        await admin.send(f"/markup {MODEL} 2")
        assert admin.services.controls.markup(MODEL) == 2
        assert (await admin.send(f"/markup {MODEL} reset")).text == (
            f"💲 {MODEL} sells at the global markup again."
        )
        await admin.send(f"/enable {MODEL}")
        assert admin.services.controls.disabled(MODEL) is None

    async def test_unknown_model_names_the_nearest(self, admin: Driver) -> None:
        """A mistyped id is refused with the nearest ids."""
        answer = await admin.send("/disable google/nano-banan why")
        assert (answer.text or "").startswith("Not done: unknown model: google/nano-banan")
        assert "google/nano-banana" in (answer.text or "")

    async def test_usage_lines(self, admin: Driver) -> None:
        """A command without its arguments gets its usage."""
        assert (await admin.send("/disable")).text == "Usage: /disable ID reason"
        assert (await admin.send("/maintenance")).text == (
            "Usage: /maintenance on [message for users] | /maintenance off"
        )

    async def test_users_cannot_use_them(self, en: Driver) -> None:
        """A user's /disable changes nothing and says nothing about admin commands."""
        answer = await en.send(f"/disable {MODEL} because")
        assert "disable" not in (answer.text or "").lower()
        assert en.services.controls.disabled(MODEL) is None
        assert await en.services.store.controls.actions(limit=5) == []


class TestDisabledWhileFilling:
    async def test_generate_on_an_old_form_is_refused_without_charge(
        self, en: Driver, admin: Driver
    ) -> None:
        """A form confirmed before the model was disabled: Generate is refused with the
        reason, no Stars move and no job is made."""
        await open_card(en)
        await en.click("✨ Start")
        await en.send("a cat")
        await admin.send(f"/disable {MODEL} provider outage")
        await en.services.controls.refresh()  # each driver is an instance of its own
        answer = await en.click("🚀 Generate")
        assert answer.text == (
            "This model is switched off for now: provider outage. Nothing was charged; "
            "please pick another one."
        )
        user = await en.services.store.users.get(TgUserId(USER))
        assert (user.balance, user.held) == (100, 0)
        assert await en.services.store.jobs.find(JobFilter(user_id=TgUserId(USER))) == []


class TestMaintenance:
    async def test_users_are_told_and_nothing_starts(
        self, en: Driver, admin: Driver, caplog: pytest.LogCaptureFixture
    ) -> None:
        """While on: the operator's message answers users; Generate and /topup start
        nothing, a pre-checkout is refused; no Stars move."""
        await open_card(en)
        await en.click("✨ Start")
        confirm = await en.send("a cat")
        on = await admin.send("/maintenance on Back at 10:00 UTC")
        assert on.text == "🛠 Maintenance is on. Users see: Back at 10:00 UTC"
        await en.services.controls.refresh()  # each driver is an instance of its own
        await en.click("🚀 Generate", confirm)
        assert list(en.tg.callback_answers.values())[-1]["text"] == "🛠 Back at 10:00 UTC"
        assert (await en.send("/topup")).text == "🛠 Back at 10:00 UTC"
        payment = await pay(en, await invoice_for(en, signed(en, 50), 50))
        assert (payment.ok, payment.error_message) == (
            False, "Payments are paused for maintenance; nothing was charged.",
        )  # fmt: skip
        user = await en.services.store.users.get(TgUserId(USER))
        assert (user.balance, user.held) == (100, 0)
        assert await en.services.store.jobs.find(JobFilter(user_id=TgUserId(USER))) == []
        assert await en.services.store.payments.find() == []
        refused = [
            r.getMessage() for r in caplog.records if "maintenance_refused" in r.getMessage()
        ]
        assert [line.split(" update_id=")[0] for line in refused] == [
            f"maintenance_refused user_id={USER}"
        ] * 3  # the Generate press, /topup, the pre-checkout

    async def test_default_text_and_admins_pass(self, en: Driver, admin: Driver) -> None:
        """Without a message users get the default text; admins use the bot as usual;
        off, users are served again."""
        await admin.send("/maintenance on")
        await en.services.controls.refresh()
        assert ((await en.send("/menu")).text or "").startswith("🛠 The bot is under maintenance")
        assert not ((await admin.send("/menu")).text or "").startswith("🛠")
        assert (await admin.send("/maintenance off")).text == (
            "✅ Maintenance is off; the bot sells again."
        )
        await en.services.controls.refresh()
        assert not ((await en.send("/menu")).text or "").startswith("🛠")
