from __future__ import annotations

from tests.bot.driver import Driver


class TestStart:
    async def test_start_shows_welcome_balance_and_menu(self, en: Driver, snapshot):
        """/start greets the user, shows the balance and the main menu (visible sections)."""
        await en.send("/start")
        assert en.new() == snapshot

    async def test_start_in_russian(self, ru: Driver, snapshot):
        """A Russian-speaking user gets Russian texts and buttons."""
        await ru.send("/start")
        assert ru.new() == snapshot
