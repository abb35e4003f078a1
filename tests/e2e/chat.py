"""Driving the bot as a user through the Telegram emulator: press buttons, fill a form."""

from __future__ import annotations

from tests.e2e.conftest import eventually
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import ChatMessage

MODEL = "google/nano-banana"  # a prompt is its only required input: no upload


async def with_button(tg: TelegramEmulator, user: int, prefix: str) -> ChatMessage:
    """The bot's latest message in `user`'s chat, once it offers a button labelled `prefix`…"""
    found: list[ChatMessage] = []

    async def check() -> bool:
        messages = tg.chat(user).bot_messages()
        if messages and any(b.text.startswith(prefix) for b in messages[-1].buttons()):
            found.append(messages[-1])
        return bool(found)

    try:
        await eventually(check, within=20)
    except TimeoutError:
        raise AssertionError(f"no {prefix!r} button: {tg.chat(user).texts()}") from None
    return found[0]


async def press(tg: TelegramEmulator, user: int, prefix: str) -> ChatMessage:
    """Press the button labelled `prefix…` on the bot's latest message; that message."""
    message = await with_button(tg, user, prefix)
    label = next(b.text for b in message.buttons() if b.text.startswith(prefix))
    await tg.click(user, message.message_id, text=label)
    return message


async def fill_form(tg: TelegramEmulator, user: int, prompt: str) -> ChatMessage:
    """/menu → Images → Nano Banana → Start → the prompt: the confirmation, with Generate."""
    await tg.send_text(user, "/menu")
    await press(tg, user, "🖼 Images")
    await press(tg, user, "Nano Banana ·")
    await press(tg, user, "✨ Start")
    await with_button(tg, user, "↺ Start over")  # the prompt step is shown
    await tg.send_text(user, prompt)
    return await with_button(tg, user, "🚀 Generate")


async def fill_edit_form(
    tg: TelegramEmulator, user: int, image: bytes, prompt: str
) -> ChatMessage:
    """/menu → Image editing → Nano Banana Edit → Start → a photo, Done → the prompt: the
    confirmation, with Generate (which uploads the photo to KIE)."""
    await tg.send_text(user, "/menu")
    await press(tg, user, "✏️ Image editing")
    await press(tg, user, "Nano Banana Edit")  # on the section's first page
    await press(tg, user, "✨ Start")
    await with_button(tg, user, "↺ Start over")  # the image step is shown
    await tg.send_photo(user, image)
    await press(tg, user, "✅ Done")
    await with_button(tg, user, "↺ Start over")  # the prompt step is shown
    await tg.send_text(user, prompt)
    return await with_button(tg, user, "🚀 Generate")


def generate_data(confirmation: ChatMessage) -> str:
    """The callback data of the confirmation's Generate button."""
    button = next(b for b in confirmation.buttons() if b.text.startswith("🚀 Generate"))
    assert button.callback_data is not None
    return button.callback_data
