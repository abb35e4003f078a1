"""/ban and /unban from the admin chat: with a reason, recorded with who and when."""

from __future__ import annotations

from tests.bot.conftest import ADMIN, USER, DriverFactory, fund
from trt.store.sql import SqlStore


class TestBan:
    async def test_ban_then_unban_with_reasons(
        self, make_driver: DriverFactory, store: SqlStore
    ) -> None:
        """The admin bans with a reason: the user is told once that access is suspended;
        after /unban they are served again. The row says why and which admin."""
        await fund(store, USER, 5)
        admin, user = make_driver(ADMIN), make_driver()
        reply = await admin.send(f"/ban {USER} chargeback <fraud>")
        assert reply.text == f"User {USER} is banned: chargeback <fraud>"
        record = await store.users.get(USER)
        assert (record.is_banned, record.ban_reason, record.ban_changed_by) == (
            True, "chargeback <fraud>", f"tg:{ADMIN}",
        )  # fmt: skip
        assert (await user.send("/balance")).text == "Your access to this bot is suspended."
        card = await admin.send(f"/user {USER}")
        assert "· held: 0 ⭐ · banned (chargeback <fraud>)" in (card.text or "")
        reply = await admin.send(f"/unban {USER} refunded")
        assert reply.text == f"User {USER} is no longer banned: refunded"
        assert (await store.users.get(USER)).ban_reason == "refunded"
        assert ((await user.send("/balance")).text or "").startswith("Balance: 5 ⭐")

    async def test_usage_and_unknown_user(self, make_driver: DriverFactory, store) -> None:
        """Without a reason: the usage line, nothing changed; an unknown id is named."""
        await fund(store, USER, 5)
        admin = make_driver(ADMIN)
        assert (await admin.send(f"/ban {USER}")).text == "Usage: /ban ID reason"
        assert not (await store.users.get(USER)).is_banned
        assert (await admin.send("/unban x y")).text == "Usage: /unban ID reason"
        assert (await admin.send("/ban 555 spam")).text == "No user 555."

    async def test_russian_admin(self, make_driver: DriverFactory, store) -> None:
        """A Russian-speaking admin gets the confirmation in Russian."""
        await fund(store, USER, 5)
        admin = make_driver(ADMIN, "ru")
        reply = await admin.send(f"/ban {USER} спам")
        assert reply.text == f"Пользователь {USER} заблокирован: спам"

    async def test_not_for_other_users(self, make_driver: DriverFactory, store) -> None:
        """A non-admin's /ban is unknown text; nobody is banned."""
        await fund(store, USER, 5)
        reply = await make_driver().send(f"/ban {USER} me")
        assert (reply.text or "").startswith("I did not get that.")
        assert not (await store.users.get(USER)).is_banned
