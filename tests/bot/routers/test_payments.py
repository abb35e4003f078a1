from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.bot.conftest import ADMIN, USER, DriverFactory
from tests.bot.driver import Driver, screen
from tests.bot.routers.payments_helpers import invoice_for, pay, payment_message, push, signed
from tests.store.conftest import postgres_url, reset_schema
from trt.core import payments
from trt.domain import PaymentStatus, TgUserId
from trt.sandbox.telegram.model import Payment
from trt.store.engine import create_database
from trt.store.sql import SqlStore


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SqlStore]:
    """The bot's store on both backends: payments must credit once on each."""
    url = "sqlite+aiosqlite://" if request.param == "sqlite" else postgres_url()
    db = create_database(url)
    await reset_schema(db)
    yield SqlStore(db)
    await db.dispose()


async def balance(d: Driver) -> int:
    return (await d.services.store.users.get(TgUserId(d.user_id))).balance


class TestTopupFlow:
    async def test_package_invoice_payment_and_receipt(self, en: Driver) -> None:
        """/topup → a package → invoice → pre-checkout ok → credited with bonus → receipt."""
        packages = await en.send("/topup")
        assert screen(packages) == (
            "Top up with Telegram Stars\nBalance: 100 ⭐\n\nPick a package, or send /topup N "
            "for another amount from 10 to 10000 ⭐.\n[50 ⭐]\n[100 ⭐]\n[250 ⭐ + 12 ⭐ bonus]\n"
            "[500 ⭐ + 50 ⭐ bonus]\n[1000 ⭐ + 150 ⭐ bonus]\n[🏠 Menu]"
        )
        invoice = await en.click("250 ⭐")
        assert (invoice.kind, invoice.extra["invoice"]["total_amount"]) == ("invoice", 250)
        assert invoice.extra["invoice"]["currency"] == "XTR"
        payment = await pay(en, invoice)
        assert payment.ok, payment.error_message
        assert en.last().text == (
            f"✅ Payment received: 250 ⭐\nBalance: 362 ⭐\nReceipt: {payment.charge_id}\n"
            "🎁 Package bonus: +12 ⭐"
        )
        assert [b.text for b in en.last().buttons()] != []  # the receipt is no dead end
        assert await balance(en) == 362
        assert await en.services.store.ledger.invariant_violations() == []

    async def test_balance_screen_leads_to_the_packages(self, en: Driver) -> None:
        """The balance screen's Top up button opens the packages."""
        await en.send("/balance")
        packages = await en.click("⭐ Top up")
        assert (packages.text or "").startswith("Top up with Telegram Stars")

    async def test_custom_amount_within_limits(self, en: Driver) -> None:
        """/topup 300 sends a 300 ⭐ invoice; amounts outside the limits are explained."""
        invoice = await en.send("/topup 300")
        assert invoice.extra["invoice"]["total_amount"] == 300
        assert (await pay(en, invoice)).ok
        assert await balance(en) == 400
        refused = await en.send("/topup 5")
        assert refused.text == (
            "Send /topup N with a whole number from 10 to 10000 ⭐, or pick a package."
        )
        assert [b.text for b in refused.buttons()][:2] == ["50 ⭐", "100 ⭐"]  # the packages
        assert (await en.click("50 ⭐", refused)).kind == "invoice"

    async def test_russian_invoice_and_receipt(self, ru: Driver) -> None:
        """The invoice and the receipt speak the user's language."""
        invoice = await ru.send("/topup 100")
        assert invoice.extra["invoice"]["title"] == "Пополнение на 100 ⭐"
        await pay(ru, invoice)
        assert (ru.last().text or "").startswith("✅ Платёж получен: 100 ⭐\nБаланс: 200 ⭐")
        assert "🏠 Меню" in [b.text for b in ru.last().buttons()]
        refused = await ru.send("/topup 5")
        assert [b.text for b in refused.buttons()][:2] == ["50 ⭐", "100 ⭐"]


class TestDuplicates:
    async def test_repeated_update_credits_once(self, en: Driver) -> None:
        """The same successful_payment delivered again credits nothing and sends no receipt."""
        await pay(en, await en.send("/topup 50"))
        sent = len(en.history())
        en.tg.updates.push("message", payment_message(en).to_json())
        await en.pump()
        assert (await balance(en), len(en.history())) == (150, sent)

    async def test_concurrent_first_deliveries_credit_once(self, en: Driver) -> None:
        """Five instances handling the same new payment at once credit it once, one receipt."""
        invoice = await en.send("/topup 50")
        sent = len(en.history())
        paying = asyncio.create_task(en.tg.pay(USER, invoice.message_id))
        (query,) = await en.bot.get_updates(offset=en.offset, timeout=5)
        await en.dp.feed_update(en.bot, query)
        assert (await paying).ok
        (update,) = await en.bot.get_updates(offset=query.update_id + 1, timeout=5)
        en.offset = update.update_id + 1
        await asyncio.gather(*(en.dp.feed_update(en.bot, update) for _ in range(5)))
        assert (await balance(en), len(en.history())) == (150, sent + 1)
        assert (en.last().text or "").startswith("✅ Payment received: 50 ⭐")
        assert await en.services.store.ledger.invariant_violations() == []


class TestRefusals:
    async def test_forged_payload_is_refused_at_pre_checkout(self, en: Driver) -> None:
        """An invoice the bot did not sign is refused with a reason; nothing is charged."""
        forged = signed(en, 500).replace(":500:", ":5000:")
        payment = await pay(en, await invoice_for(en, forged, 5000))
        assert (payment.ok, payment.error_message) == (
            False, "this invoice is not valid, please open /topup again",
        )  # fmt: skip
        assert await en.services.store.payments.find() == []

    async def test_mismatched_amount_is_refused(self, en: Driver) -> None:
        """A signed payload for 100 ⭐ on a 50 ⭐ invoice is refused."""
        payment = await pay(en, await invoice_for(en, signed(en, 100), 50))
        assert payment.error_message == "the amount does not match the invoice"

    async def test_another_users_invoice_is_refused(self, en: Driver) -> None:
        """A payload made for another user is refused."""
        payment = await pay(en, await invoice_for(en, signed(en, 100, user=4242), 100))
        assert payment.error_message == "this invoice was made for another account"

    async def test_banned_user_is_refused_with_a_reason(self, en: Driver) -> None:
        """A user banned after the invoice went out cannot pay it."""
        invoice = await en.send("/topup 50")
        await en.services.store.users.set_banned(TgUserId(USER), True)
        payment = await pay(en, invoice)
        assert payment.error_message == "your access to this bot is suspended"
        assert await balance(en) == 100

    async def test_replayed_invoice_is_refused(self, en: Driver) -> None:
        """An invoice paid once is refused the second time."""
        invoice = await en.send("/topup 50")
        await pay(en, invoice)
        again = await pay(en, invoice)
        assert again.error_message == "this invoice was paid already, please open /topup again"
        assert await balance(en) == 150

    async def test_withdrawn_package_is_refused(self, make_driver: DriverFactory) -> None:
        """An invoice for a package the operator has since removed is refused."""
        old = make_driver(USER, topup_packages="50,250:5")
        invoice = await old.send("/topup 250")
        new = make_driver(USER, topup_packages="50,250")
        new.offset = old.offset
        assert (await pay(new, invoice)).error_message == (
            "this package is no longer offered, please open /topup again"
        )

    async def test_unchecked_successful_payment_is_rejected_and_refunded(self, en: Driver):
        """A payment that skipped the checks is never credited; its Stars go back."""
        en.tg.payments["stxe-forged"] = Payment("q", USER, True, charge_id="stxe-forged")
        await push(en, successful_payment={
            "currency": "XTR", "total_amount": 500, "invoice_payload": "t1:7001:500:0:ab:cd",
            "telegram_payment_charge_id": "stxe-forged", "provider_payment_charge_id": "p",
        })  # fmt: skip
        assert (en.last().text or "").startswith(
            "⚠️ This payment could not be accepted: this invoice is not valid"
        )
        recorded = await en.services.store.payments.get("stxe-forged")
        assert (recorded.status, await balance(en)) == (PaymentStatus.REFUNDED, 100)
        assert en.tg.payments["stxe-forged"].refunded is True


class TestTelegramRefund:
    async def test_refunded_payment_reverses_the_credit(self, en: Driver) -> None:
        """A refund Telegram reports takes the Stars back once and tells the user."""
        payment = await pay(en, await en.send("/topup 50"))
        refund = {"currency": "XTR", "total_amount": 50, "invoice_payload": "x",
                  "telegram_payment_charge_id": payment.charge_id}  # fmt: skip
        await push(en, refunded_payment=refund)
        assert (en.last().text or "").startswith(f"↩️ Payment {payment.charge_id} was refunded")
        await push(en, refunded_payment=refund)
        assert await balance(en) == 100
        stored = await en.services.store.payments.get(payment.charge_id or "")
        assert stored.status is PaymentStatus.REFUNDED


FORGED_NOTICE = "⚠️ This payment could not be accepted: this invoice is not valid"


def odd_payment(charge: str, **fields: object) -> dict[str, object]:
    return {
        "currency": "XTR", "total_amount": 50, "invoice_payload": "t1:é:50:0:ab:cd",
        "telegram_payment_charge_id": charge, "provider_payment_charge_id": "p", **fields,
    }  # fmt: skip


class TestHostileInput:
    @pytest.mark.parametrize("args", ["²", "9" * 5000, "١٢", "-5", "5.5", "5e3"])
    async def test_odd_topup_amounts_get_the_limits(self, en: Driver, args: str) -> None:
        """A superscript digit, 5,000 digits, Arabic digits or a sign: the limits (with the
        packages to pick), no error."""
        reply = await en.send(f"/topup {args}")
        assert screen(reply).startswith(
            "Send /topup N with a whole number from 10 to 10000 ⭐, or pick a package.\n[50 ⭐]"
        )

    @pytest.mark.parametrize("payload", ["t1:1:50:0:ab:é", "é" * 30, "t1:²:50:0:ab:cd"])
    async def test_a_non_ascii_payload_is_answered_at_pre_checkout(
        self, en: Driver, payload: str
    ) -> None:
        """Pre-checkout for a payload with any Unicode is answered (refused), never left to
        time out."""
        payment = await pay(en, await invoice_for(en, payload, 50))
        assert (payment.ok, payment.error_message) == (
            False, "this invoice is not valid, please open /topup again",
        )  # fmt: skip

    @pytest.mark.parametrize(
        "fields",
        [{}, {"total_amount": 2**64}, {"total_amount": -(2**70)}, {"currency": "X" * 300},
         {"invoice_payload": "\x00" * 300}],
    )  # fmt: skip
    async def test_an_odd_successful_payment_is_recorded_and_refunded(
        self, en: Driver, fields: dict[str, object]
    ) -> None:
        """A non-ASCII payload, an amount past 64 bits, a long currency or NUL bytes: the
        payment is recorded as rejected, refunded, and nothing is credited."""
        en.tg.payments["stxe-odd"] = Payment("q", USER, True, charge_id="stxe-odd")
        await push(en, successful_payment=odd_payment("stxe-odd", **fields))
        assert (en.last().text or "").startswith(FORGED_NOTICE)
        recorded = await en.services.store.payments.get("stxe-odd")
        assert (recorded.status, await balance(en)) == (PaymentStatus.REFUNDED, 100)
        assert en.tg.payments["stxe-odd"].refunded is True

    async def test_an_unstorable_charge_id_is_recorded_under_its_digest(self, en: Driver):
        """A charge id longer than any column holds is still recorded (under a digest),
        rejected, and the admins are told its refund failed."""
        await push(en, successful_payment=odd_payment("c" * 5000, invoice_payload="x"))
        [recorded] = await en.services.store.payments.find()
        assert recorded.telegram_payment_charge_id.startswith("unstorable:")
        assert (recorded.status, await balance(en)) == (PaymentStatus.REJECTED, 100)

    async def test_a_failing_refund_is_retried_then_alerted(
        self, en: Driver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Telegram refuses every try: three tries, then one alert to the admins naming the
        charge and the command that retries it; the payment stays rejected, uncredited."""
        monkeypatch.setattr(payments, "REFUND_RETRY_DELAYS", (0.0, 0.0))
        en.tg.user(ADMIN)
        await push(en, successful_payment=odd_payment("stxe-unknown"))  # Telegram: no such charge
        recorded = await en.services.store.payments.get("stxe-unknown")
        assert (recorded.status, await balance(en)) == (PaymentStatus.REJECTED, 100)
        [alert] = en.tg.chat(ADMIN).texts()
        assert "stxe-unknown" in alert and "trt payments refund stxe-unknown" in alert
