"""Bot API methods about the bot itself and its updates: getMe, commands, webhook, polling,
callback answers and chat actions."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from trt.sandbox.telegram.errors import bad_request
from trt.sandbox.telegram.params import Params
from trt.sandbox.telegram.updates import Webhook, check_webhook_url

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_QUERY_GONE = "query is too old and response timeout expired or query ID is invalid"


async def get_me(emu: TelegramEmulator, p: Params) -> Any:
    return {
        **emu.bot_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _commands_key(p: Params) -> tuple[str, str]:
    scope = p.json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.opt_text("language_code") or ""


async def set_my_commands(emu: TelegramEmulator, p: Params) -> Any:
    commands = p.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        name = str(command.get("command", "")) if isinstance(command, dict) else ""
        if not _COMMAND.fullmatch(name.lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    emu.commands[_commands_key(p)] = commands
    return True


async def get_my_commands(emu: TelegramEmulator, p: Params) -> Any:
    return emu.commands.get(_commands_key(p), [])


async def delete_my_commands(emu: TelegramEmulator, p: Params) -> Any:
    emu.commands.pop(_commands_key(p), None)
    return True


async def send_chat_action(emu: TelegramEmulator, p: Params) -> Any:
    emu.target_chat(p.integer("chat_id"))
    if p.opt_text("action") not in _ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def answer_callback_query(emu: TelegramEmulator, p: Params) -> Any:
    query_id = p.text("callback_query_id")
    if query_id not in emu.callback_queries or query_id in emu.callback_answers:
        raise bad_request(_QUERY_GONE)
    text = p.opt_text("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    emu.callback_answers[query_id] = dict(p.values)
    return True


async def get_updates(emu: TelegramEmulator, p: Params) -> Any:
    allowed = p.json("allowed_updates")
    return await emu.updates.get_updates(
        offset=p.opt_integer("offset"),
        limit=p.opt_integer("limit") or 100,
        wait=float(p.opt_integer("timeout") or 0),
        allowed=allowed if isinstance(allowed, list) else None,
    )


async def set_webhook(emu: TelegramEmulator, p: Params) -> Any:
    url = p.opt_text("url") or ""
    if not url:  # an empty URL removes the webhook, as Telegram documents
        emu.updates.delete_webhook(drop_pending=p.flag("drop_pending_updates"))
        return True
    secret = p.opt_text("secret_token")
    check_webhook_url(url, secret)
    allowed = p.json("allowed_updates")
    hook = Webhook(
        url=url,
        secret_token=secret,
        max_connections=p.opt_integer("max_connections") or 40,
        allowed_updates=allowed if isinstance(allowed, list) else [],
    )
    emu.updates.set_webhook(hook, drop_pending=p.flag("drop_pending_updates"))
    return True


async def delete_webhook(emu: TelegramEmulator, p: Params) -> Any:
    emu.updates.delete_webhook(drop_pending=p.flag("drop_pending_updates"))
    return True


async def get_webhook_info(emu: TelegramEmulator, p: Params) -> Any:
    hook = emu.updates.webhook
    pending = len(emu.updates.pending)
    if hook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
    return hook.info(pending)


HANDLERS = {
    "getMe": get_me,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "sendChatAction": send_chat_action,
    "answerCallbackQuery": answer_callback_query,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
