"""Showing a screen: edit the message a button was pressed on, or send a new one."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from trt.bot.texts import split_text

logger = logging.getLogger(__name__)

Target = Message | CallbackQuery


async def send(message: Message, body: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send `body` (split under Telegram's limit); the keyboard goes on the last part."""
    parts = split_text(body)
    for part in parts[:-1]:
        await message.answer(part)
    return await message.answer(parts[-1], reply_markup=markup)


async def show(target: Target, body: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A button press edits its message in place; a typed message gets a new one."""
    if isinstance(target, Message):
        await send(target, body, markup)
        return
    await target.answer()
    message = target.message
    if not isinstance(message, Message):
        return  # the message is too old to touch; Telegram gave no content
    if message.text is not None and len(body) <= 4096:
        try:
            await message.edit_text(body, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
            logger.info("could not edit message %s: %s", message.message_id, exc.message)
    await send(message, body, markup)


def chat_message(target: Target) -> Message | None:
    """The message to answer in: the typed one, or the one the button sits on."""
    if isinstance(target, Message):
        return target
    return target.message if isinstance(target.message, Message) else None
