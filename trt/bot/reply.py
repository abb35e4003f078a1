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


async def show(
    target: Target, body: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """A button press edits its message in place; a typed message gets a new one. Returns
    the message now showing the screen (None when the pressed one is too old to touch)."""
    if isinstance(target, Message):
        return await send(target, body, markup)
    await target.answer()
    message = target.message
    if not isinstance(message, Message):
        return None  # the message is too old to touch; Telegram gave no content
    if message.text is not None and len(body) <= 4096:
        try:
            await message.edit_text(body, reply_markup=markup)
            return message
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return message
            logger.info("could not edit message %s: %s", message.message_id, exc.message)
    return await send(message, body, markup)


async def retire(shown: Message, old_id: int | None) -> None:
    """Take the buttons off an earlier screen of the same conversation, now that `shown`
    replaced it: they would lead nowhere (or somewhere the user has left)."""
    if old_id is None or old_id == shown.message_id or shown.bot is None:
        return
    try:
        await shown.bot.edit_message_reply_markup(
            chat_id=shown.chat.id, message_id=old_id, reply_markup=None
        )
    except TelegramBadRequest as exc:  # gone, too old, or without buttons already
        logger.info("could not retire message %s: %s", old_id, exc.message)


def chat_message(target: Target) -> Message | None:
    """The message to answer in: the typed one, or the one the button sits on."""
    if isinstance(target, Message):
        return target
    return target.message if isinstance(target.message, Message) else None
