"""The bot's end-to-end flows through the sandbox over real HTTP: the chat page's own
controls and long poll, the Telegram emulator's webhook, `trt serve`, the KIE emulator."""

from __future__ import annotations

from aiohttp import ClientSession

from tests.sandbox.conftest import Chat, Message, en, has_button, has_button_starting, png
from trt.sandbox.run import Sandbox

PROMPT = "a red fox in the snow, sandbox test"


async def open_first_model(chat: Chat, category: str) -> Message:
    """/start, a menu section, its first (cheapest) model's card, then ✨ Start."""
    await chat.send("/start")
    menu = await chat.wait_for(has_button(en(f"category.{category}")))
    await chat.click(menu, en(f"category.{category}"))
    listing = await chat.wait_for(lambda m: m["text"].startswith(en(f"category.{category}")))
    first = next(b for row in listing["reply_markup"]["inline_keyboard"] for b in row
                 if b["callback_data"].startswith("mc:"))  # fmt: skip
    await chat.click(listing, first["text"])
    card = await chat.wait_for(has_button(en("button.start")))
    await chat.click(card, en("button.start"))
    return await chat.wait_for(has_button(en("button.reset")))


async def generate(chat: Chat, confirm: Message) -> Message:
    go = next(b for b in _labels(confirm) if b.startswith("🚀"))
    await chat.click(confirm, go)
    return await chat.wait_for(lambda m: m["from_bot"] and m["kind"] == "photo", within=30)


def _labels(message: Message) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


class TestPage:
    async def test_the_page_and_its_scripts_are_served_and_say_sandbox(
        self, sandbox: Sandbox, http: ClientSession
    ) -> None:
        """/ serves the page (marked SANDBOX) and the files it loads, with no external assets."""
        async with http.get(sandbox.url) as page:
            html = await page.text()
        assert page.status == 200 and "SANDBOX" in html
        assert "http://" not in html and "https://" not in html
        for name in ("chat.js", "render.js", "chat.css"):
            async with http.get(f"{sandbox.url}{name}") as asset:
                assert asset.status == 200, name

    async def test_the_preset_users_are_listed_with_their_languages(
        self, sandbox: Sandbox, http: ClientSession
    ) -> None:
        """The user switcher's list holds the preset test users, Russian-speaking one included."""
        async with http.get(f"{sandbox.url}_emulator/users") as answer:
            users = {u["id"]: u["language_code"] for u in await answer.json()}
        assert users == {1001: "en", 1002: "ru", 1003: "en"}


class TestFlows:
    async def test_start_answers_with_the_menu(self, alice: Chat) -> None:
        """/start gets the welcome and the catalogue's sections."""
        await alice.send("/start")
        menu = await alice.wait_for(has_button(en("category.text-to-image")))
        assert "Alice" in menu["text"]

    async def test_start_speaks_russian_to_a_russian_user(
        self, sandbox: Sandbox, http: ClientSession
    ) -> None:
        """The second preset user's Telegram language is Russian, and so is the bot."""
        boris = Chat(http, sandbox.url, 1002)
        await boris.send("/start")
        menu = await boris.wait_for(lambda m: m["from_bot"] and "Борис" in (m["text"] or ""))
        assert "Баланс" in menu["text"]

    async def test_one_image_generation_shows_the_picture(
        self, alice: Chat, http: ClientSession
    ) -> None:
        """The catalogue, a text-to-image model, a prompt, Generate: the photo arrives, marked."""
        await open_first_model(alice, "text-to-image")
        await alice.send(PROMPT)
        confirm = await alice.wait_for(has_button_starting("🚀"))
        photo = await generate(alice, confirm)
        assert en("result.emulator") in photo["caption"]
        async with http.get(f"{alice.url}{photo['file']['url']}") as image:
            assert image.status == 200
            assert (await image.read()).startswith(b"\x89PNG")

    async def test_an_uploaded_photo_is_a_model_input(self, alice: Chat) -> None:
        """An image-editing model takes the photo uploaded through the page, then generates."""
        question = await open_first_model(alice, "image-edit")
        for _ in range(6):  # a prompt and an image, in whichever order the model asks
            if any(b.startswith("🚀") for b in _labels(question)):
                break
            await self._answer(alice, question)
            question = await alice.next_screen(question)
        photo = await generate(alice, question)
        assert photo["photo"]

    @staticmethod
    async def _answer(chat: Chat, question: Message) -> None:
        if en("button.done") in _labels(question):
            await chat.click(question, en("button.done"))
        elif "image" in question["text"]:
            status, _ = await chat.upload(png(), "photo", "cat.png")
            assert status == 200
        else:
            await chat.send(PROMPT)


class TestMoneyAndHistoryFlows:
    async def test_a_stars_top_up_is_paid_and_credited(self, alice: Chat) -> None:
        """/topup, a package, Pay on the invoice: the receipt shows the new balance."""
        await alice.send("/topup")
        packages = await alice.wait_for(has_button(en("topup.package", stars=50)))
        await alice.click(packages, en("topup.package", stars=50))
        invoice = await alice.wait_for(lambda m: m["from_bot"] and m["kind"] == "invoice")
        await alice._json("POST", f"/_emulator/users/{alice.user_id}/payments",
                          json={"message_id": invoice["message_id"]})  # fmt: skip
        receipt = await alice.wait_for(lambda m: m["from_bot"] and "50 ⭐" in (m.get("text") or "")
                                       and "Receipt" in (m.get("text") or ""))  # fmt: skip
        assert "Balance: 550 ⭐" in receipt["text"]

    async def test_history_sends_a_result_again(self, alice: Chat) -> None:
        """After a generation, /history opens it and "Send again" delivers the picture anew."""
        await open_first_model(alice, "text-to-image")
        await alice.send(PROMPT)
        await generate(alice, await alice.wait_for(has_button_starting("🚀")))
        await alice.send("/history")
        listing = await alice.wait_for(
            lambda m: m["from_bot"] and "(page 1)" in (m.get("text") or "")
        )
        entry = next(b for b in _labels(listing) if "«" in b)  # date · «prompt» · model · state
        await alice.click(listing, entry)
        detail = await alice.wait_for(has_button(en("button.resend")))
        photos = len([m for m in (await alice.state())["messages"] if m["kind"] == "photo"])
        await alice.click(detail, en("button.resend"))
        await alice.wait_for(
            lambda m: m["kind"] == "photo" and m["message_id"] > detail["message_id"]
        )
        after = len([m for m in (await alice.state())["messages"] if m["kind"] == "photo"])
        assert after == photos + 1
