from __future__ import annotations

from tests.bot.driver import Driver, screen


class TestCatalog:
    async def test_category_card_and_back(self, en: Driver, snapshot):
        """Images lists models with their "from" price; a card shows inputs, output and price;
        Back returns to the list."""
        await en.send("/menu")
        listing = screen(await en.click("🖼 Images"))
        card = screen(await en.click("Nano Banana ·"))
        await en.click("⬅️ Back")
        assert [listing, card] == snapshot
        assert (en.last().text or "").startswith("🖼 Images")

    async def test_pages_move_forward(self, en: Driver):
        """A category with more models than a page has a next-page button that works."""
        await en.send("/menu")
        await en.click("🎬 Video")
        await en.click("▶️")
        assert "page 2 of" in (en.last().text or "")

    async def test_unknown_text_gets_a_hint_and_the_menu(self, en: Driver):
        """Text outside a form is never met with silence."""
        reply = await en.send("hello?")
        assert (reply.text or "").startswith("I did not get that.")
        assert any(b.text == "🖼 Images" for b in reply.buttons())

    async def test_forged_button_says_outdated(self, en: Driver):
        """Tampered callback data gets "this menu is outdated" and a fresh menu."""
        await en.send("/menu")
        for data in ("mc:ffffffffff:0", "s:0000:pick:x:1", "garbage", "c:nope:0"):
            reply = await en.press(data)
            assert (reply.text or "").startswith("This menu is outdated"), data
            assert reply.buttons()
