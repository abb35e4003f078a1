from __future__ import annotations

from tests.bot.conftest import ADMIN, DriverFactory
from tests.bot.driver import Driver
from tests.bot.routers.payments_helpers import pay


class TestPaySupport:
    async def test_paysupport_answers_and_tells_the_admins(self, en: Driver) -> None:
        """/paysupport lists the user's payments and alerts the admins with them."""
        en.tg.user(ADMIN)
        payment = await pay(en, await en.send("/topup 50"))
        reply = await en.send("/paysupport")
        assert (reply.text or "").startswith("Payment support\nThe team has been told")
        assert f"50 ⭐ · paid · {payment.charge_id}" in (reply.text or "")
        [alert] = en.tg.chat(ADMIN).texts()
        assert alert.startswith("⚠️ 💳 /paysupport from user 7001 (Ann), balance 150 ⭐.")
        assert f"· paid · {payment.charge_id}" in alert

    async def test_operator_text_replaces_the_default(self, make_driver: DriverFactory) -> None:
        """PAYSUPPORT_TEXT and TERMS_TEXT are shown as configured."""
        d = make_driver(paysupport_text="Write to @help", terms_text="<b>Our terms</b>")
        assert (await d.send("/paysupport")).text == "Write to @help"
        assert (await d.send("/terms")).text == "Our terms"


class TestTerms:
    async def test_default_terms(self, en: Driver) -> None:
        """/terms shows the built-in terms."""
        assert (await en.send("/terms")).text.startswith("Terms of purchase")  # type: ignore[union-attr]
