from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.bot.conftest import USER, DriverFactory
from tests.bot.driver import Driver
from trt.domain import TgUserId


class TestRedeem:
    async def test_code_credits_once(self, en: Driver) -> None:
        """/promo CODE adds the Stars; the second time it is refused with the reason."""
        await en.services.store.promo.create("SPRING", 25, uses=3)
        ok = await en.send("/promo spring")
        assert ok.text == "🎁 Promo code SPRING: +25 ⭐\nBalance: 125 ⭐"
        again = await en.send("/promo SPRING")
        assert again.text == "You have already used promo code SPRING."
        assert (await en.services.store.users.get(TgUserId(USER))).balance == 125

    async def test_refusals_name_the_reason(self, en: Driver) -> None:
        """Unknown, expired and already used codes are refused with a reason; nothing moves."""
        promo = en.services.store.promo
        await promo.create("OLD", 5, expires_at=datetime.now(UTC) - timedelta(hours=1))
        await promo.create("ONE", 5, uses=1)
        await promo.redeem("ONE", TgUserId(USER))
        assert (await en.send("/promo NOPE")).text == "There is no promo code NOPE."
        assert (await en.send("/promo OLD")).text == "Promo code OLD has expired."
        assert (await en.send("/promo ONE")).text == "You have already used promo code ONE."
        assert (await en.send("/promo <b>")).text == "There is no promo code <b>."
        assert (await en.services.store.users.get(TgUserId(USER))).balance == 105

    async def test_usage_without_a_code(self, en: Driver) -> None:
        """/promo alone explains how to use it."""
        assert (await en.send("/promo")).text == "Send /promo CODE to redeem a promo code."

    async def test_deep_link_welcomes_and_redeems(self, make_driver: DriverFactory) -> None:
        """/start promo_CODE shows the welcome and redeems the code."""
        d = make_driver(7003)
        await d.services.store.users.ensure(TgUserId(7003))
        await d.services.store.promo.create("LINK", 7)
        await d.send("/start promo_LINK")
        texts = [m.text or "" for m in d.history()]
        assert texts[0].startswith("👋 Hello, Ann!")
        assert texts[-1] == "🎁 Promo code LINK: +7 ⭐\nBalance: 7 ⭐"

    async def test_exhausted_code_for_a_second_user(self, make_driver: DriverFactory) -> None:
        """A one-use code taken by someone else is refused as used up."""
        first, second = make_driver(7004), make_driver(7005)
        await first.services.store.promo.create("SOLO", 5, uses=1)
        await first.send("/promo SOLO")
        assert (await second.send("/promo SOLO")).text == "Promo code SOLO has been used up."
