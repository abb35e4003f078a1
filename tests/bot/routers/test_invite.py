from __future__ import annotations

from tests.bot.conftest import DriverFactory
from tests.bot.driver import Driver
from tests.bot.routers.payments_helpers import pay
from trt.core.referrals import code_for
from trt.domain import TgUserId

HOST = 7101
GUEST = 7102


async def balance(d: Driver, user: int) -> int:
    return (await d.services.store.users.get(TgUserId(user))).balance


class TestInvite:
    async def test_invite_shows_the_link_and_counts(self, make_driver: DriverFactory) -> None:
        """/invite shows the deep link, the bonus and who joined and paid."""
        host = make_driver(HOST)
        reply = await host.send("/invite")
        link = f"https://t.me/trt_test_bot?start=ref_{code_for(TgUserId(HOST))}"
        assert reply.text == (
            f"Invite friends\nYour link:\n{link}\n\nWhen a friend who joined through it makes "
            "a first top-up, you both get 10% of it (up to 10 ⭐ each).\n"
            "Joined: 0 · topped up: 0"
        )

    async def test_referred_first_topup_pays_both_once(self, make_driver: DriverFactory):
        """A new user from the link is bound; their first top-up pays both sides 10% of it,
        once."""
        host = make_driver(HOST)
        await host.send("/start")
        guest = make_driver(GUEST)
        await guest.send(f"/start ref_{code_for(TgUserId(HOST))}")
        assert guest.last().text == (
            "🤝 You came with an invitation: after your first top-up you and your friend "
            "both get 10% of it (up to 10 ⭐ each)."
        )
        await pay(guest, await guest.send("/topup 50"))
        assert "🎁 Invitation bonus: +5 ⭐" in (guest.last().text or "")
        await pay(guest, await guest.send("/topup 50"))
        assert (await balance(guest, GUEST), await balance(guest, HOST)) == (105, 5)
        assert host.tg.chat(HOST).last().text == (
            "🎁 A friend you invited made their first top-up: +5 ⭐. Balance: 5 ⭐"
        )
        assert (await host.send("/invite")).text.endswith("Joined: 1 · topped up: 1")  # type: ignore[union-attr]

    async def test_a_small_first_topup_cannot_be_farmed(self, make_driver: DriverFactory):
        """10 ⭐ paid once gave 30 ⭐ of balance (10 to each side): now the bonuses stay
        within the margin, so the generations they buy cost KIE less than was paid."""
        host = make_driver(HOST, "ru")
        await host.send("/start")
        guest = make_driver(GUEST, "ru")
        await guest.send(f"/start ref_{code_for(TgUserId(HOST))}")
        await pay(guest, await guest.send("/topup 10"))
        assert "🎁 Бонус за приглашение: +1 ⭐" in (guest.last().text or "")
        given = await balance(guest, GUEST) + await balance(guest, HOST)
        assert given == 12
        assert given / 1.5 <= 10  # KIE's cost of what the balances buy, at the 1.5 markup

    async def test_self_referral_is_ignored(self, make_driver: DriverFactory) -> None:
        """Starting through one's own link binds nothing."""
        host = make_driver(HOST)
        await host.send(f"/start ref_{code_for(TgUserId(HOST))}")
        assert await host.services.store.referrals.referrer_of(TgUserId(HOST)) is None
        assert (host.history()[0].text or "").startswith("👋 Hello, Ann!")

    async def test_returning_user_is_not_bound(self, make_driver: DriverFactory) -> None:
        """A user who started before cannot be claimed by a later link."""
        host = make_driver(HOST)
        await host.send("/start")
        guest = make_driver(GUEST)
        await guest.send("/start")
        await guest.send(f"/start ref_{code_for(TgUserId(HOST))}")
        assert await guest.services.store.referrals.referrer_of(TgUserId(GUEST)) is None

    async def test_unknown_inviter_is_ignored(self, make_driver: DriverFactory) -> None:
        """A link naming nobody still starts the bot normally."""
        guest = make_driver(GUEST)
        await guest.send("/start ref_zzzz")
        assert (guest.history()[0].text or "").startswith("👋 Hello, Ann!")
        assert await guest.services.store.referrals.referrer_of(TgUserId(GUEST)) is None
