"""Bot API methods for text messages: send, edit (text, caption, keyboard) and delete."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from trt.sandbox.telegram.errors import bad_request
from trt.sandbox.telegram.model import ChatMessage
from trt.sandbox.telegram.params import Params
from trt.sandbox.telegram.text import caption_text, check_markup, message_text

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


async def send_message(emu: TelegramEmulator, p: Params) -> Any:
    history = emu.target_chat(p.integer("chat_id"))
    text, entities = message_text(
        p.opt_text("text") or "", p.opt_text("parse_mode"), p.json("entities")
    )
    markup = check_markup(p.json("reply_markup"))
    emu.check_flood(history)
    message = emu.add_message(
        history, sender=None, text=text, entities=entities, reply_markup=markup
    )
    return message.to_json()


def edit_target(emu: TelegramEmulator, p: Params) -> ChatMessage:
    """The bot message an edit names; inline messages are not emulated."""
    if p.has("inline_message_id"):
        raise bad_request("inline messages are not supported by the emulator")
    message = emu.bot_message(
        p.integer("chat_id"), p.integer("message_id"), "message to edit not found"
    )
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def apply_edit(message: ChatMessage, **changes: Any) -> dict[str, Any]:
    """Change `message`, or answer Telegram's 400 when nothing would change."""
    if all(getattr(message, name) == value for name, value in changes.items()):
        raise bad_request(NOT_MODIFIED)
    for name, value in changes.items():
        setattr(message, name, value)
    message.edit_date = int(time.time())
    message.edits += 1
    return message.to_json()


async def edit_message_text(emu: TelegramEmulator, p: Params) -> Any:
    message = edit_target(emu, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = message_text(
        p.opt_text("text") or "", p.opt_text("parse_mode"), p.json("entities")
    )
    # An edit without reply_markup removes the inline keyboard, as in Telegram.
    markup = check_markup(p.json("reply_markup"))
    result = apply_edit(message, text=text, entities=entities, reply_markup=markup)
    emu.notifier.notify()
    return result


async def edit_message_caption(emu: TelegramEmulator, p: Params) -> Any:
    message = edit_target(emu, p)
    if message.file is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = caption_text(
        p.opt_text("caption"), p.opt_text("parse_mode"), p.json("caption_entities")
    )
    markup = check_markup(p.json("reply_markup"))
    result = apply_edit(message, caption=caption, entities=entities, reply_markup=markup)
    emu.notifier.notify()
    return result


async def edit_message_reply_markup(emu: TelegramEmulator, p: Params) -> Any:
    message = edit_target(emu, p)
    result = apply_edit(message, reply_markup=check_markup(p.json("reply_markup")))
    emu.notifier.notify()
    return result


async def delete_message(emu: TelegramEmulator, p: Params) -> Any:
    message = emu.bot_message(
        p.integer("chat_id"), p.integer("message_id"), "message to delete not found"
    )
    message.deleted = True
    emu.notifier.notify()
    return True


HANDLERS = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
}
