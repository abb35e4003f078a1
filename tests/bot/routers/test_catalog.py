from __future__ import annotations

from typing import Any

import pytest

from tests.bot.driver import Driver, screen
from trt.bot import screens


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

    async def test_a_press_is_answered_before_its_screen_is_built(
        self, en: Driver, monkeypatch: pytest.MonkeyPatch
    ):
        """The button's spinner stops first: the press is answered (once) before the
        handler builds the screen, and the edit follows."""
        answered_then: list[int] = []
        build = screens.category

        def category(*args: Any, **kwargs: Any) -> Any:
            answered_then.append(len(en.tg.calls_to("answerCallbackQuery")))
            return build(*args, **kwargs)

        monkeypatch.setattr(screens, "category", category)
        await en.send("/menu")
        mark = len(en.tg.calls)
        await en.click("🖼 Images")
        methods = [c.method for c in en.tg.calls[mark:] if c.method != "getUpdates"]
        assert (answered_then, methods) == ([1], ["answerCallbackQuery", "editMessageText"])

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


class TestPrices:
    async def _card(self, d: Driver, section: str, model: str) -> str:
        await d.send("/menu")
        await d.click(section)
        while not any(b.text.startswith(model) for b in d.last().buttons()):
            await d.click("▶️")
        return (await d.click(model)).text or ""

    async def test_card_shows_the_default_settings_price_en(self, en: Driver):
        """Qwen Image costs 1–3 ⭐ by size; ✨ Start's default settings cost 3 ⭐: say so."""
        card = await self._card(en, "🖼 Images", "Qwen Image ·")
        assert "Price: 1–3 ⭐; with the default settings 3 ⭐" in card, card

    async def test_card_shows_the_default_settings_price_ru(self, ru: Driver):
        card = await self._card(ru, "🖼 Изображения", "Qwen Image ·")
        assert "Цена: 1–3 ⭐; с настройками по умолчанию 3 ⭐" in card, card

    async def test_from_is_the_cheapest_duration_a_user_can_pick(self, en: Driver):
        """A per-second price: "from" is the shortest duration's price, not the default's
        (Grok Imagine Video 1.5 takes 1–15 s; 8 s is only the default)."""
        await en.send("/menu")
        await en.click("🎬 Video")
        labels = []
        while True:
            labels += [b.text for b in en.last().buttons()]
            if not any(b.text == "▶️" for b in en.last().buttons()):
                break
            await en.click("▶️")
        [grok] = [label for label in labels if label.startswith("Grok Imagine Video 1.5")]
        assert grok.endswith("from 1 ⭐"), grok


class TestAllModels:
    async def test_models_lists_every_model_en(self, en: Driver):
        """/models ("all models") lists every visible model by section, not /menu again."""
        reply = await en.send("/models")
        menu = await en.send("/menu")
        assert reply.text != menu.text
        text = "".join(m.text or "" for m in en.history() if m.message_id < menu.message_id)
        count = len(en.services.registry.visible())
        assert text.count("• ") == count, (text.count("• "), count)
        assert "Seedance 2.0 · from" in text and "🎵 Music" in text

    async def test_models_lists_every_model_ru(self, ru: Driver):
        reply = await ru.send("/models")
        assert (reply.text or "").count("• ") == len(ru.services.registry.visible())
        assert "Все модели" in (reply.text or "")


class TestVoiceNames:
    async def _voices(self, d: Driver, section: str, start: str, settings: str, voice: str):
        await d.send("/menu")
        await d.click(section)
        while not any(b.text.startswith("ElevenLabs Multilingual v2") for b in d.last().buttons()):
            await d.click("▶️")
        await d.click("ElevenLabs Multilingual v2")
        await d.click(start)
        confirm = (await d.send("Hello there")).text or ""  # before the edits below
        await d.click(settings)
        picker = await d.click(voice)
        return confirm, [b.text for b in picker.buttons()]

    async def test_voices_are_named_en(self, en: Driver):
        """ElevenLabs voices showed raw ids (EkK5I93UQWFDigLMpZcX): names now."""
        confirm, buttons = await self._voices(
            en, "🗣 Speech", "✨ Start", "⚙️ Change settings", "Voice"
        )
        assert "James · Husky, Engaging and Bold" in confirm
        assert "EkK5I93UQWFDigLMpZcX" not in confirm
        assert any(b.startswith("Arabella") for b in buttons)
        assert not any("EkK5I93UQWFDigLMpZcX" in b for b in buttons)

    async def test_voices_are_named_ru(self, ru: Driver):
        confirm, buttons = await self._voices(
            ru, "🗣 Озвучка", "✨ Начать", "⚙️ Изменить настройки", "Голос"
        )
        assert "James" in confirm and "EkK5I93UQWFDigLMpZcX" not in confirm
        assert any(b.startswith("Arabella") for b in buttons)
