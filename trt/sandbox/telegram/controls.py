"""Small JSON endpoints under ``/_emulator/`` so a browser page can act as the users.

    POST /_emulator/users                      {"id", "first_name"?, "language_code"?, …}
    POST /_emulator/users/{id}/messages        {"text", "chat_id"?}
    POST /_emulator/users/{id}/clicks          {"message_id", "callback_data"? | "text"?,
                                                "chat_id"?, "forge"?}
    POST /_emulator/users/{id}/payments        {"message_id"? | "link"?}
    POST /_emulator/users/{id}/block           {"blocked": true|false}
    GET  /_emulator/chats/{chat_id}            the chat's messages
    GET  /_emulator/calls                      every Bot API call so far

Answers are plain JSON; a missing user, chat, message or button is 404, bad input 400.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from trt.sandbox.telegram.model import TgChat, TgUser

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

Action = Callable[["TelegramEmulator", web.Request, dict[str, Any]], Awaitable[Any]]
_USER_FIELDS = {"first_name", "last_name", "username", "language_code"}


def add_control_routes(app: web.Application, emu: TelegramEmulator) -> None:
    add = app.router.add_route
    add("POST", "/_emulator/users", _control(emu, _create_user))
    add("POST", "/_emulator/users/{user_id}/messages", _control(emu, _message))
    add("POST", "/_emulator/users/{user_id}/clicks", _control(emu, _click))
    add("POST", "/_emulator/users/{user_id}/payments", _control(emu, _pay))
    add("POST", "/_emulator/users/{user_id}/block", _control(emu, _block))
    add("GET", "/_emulator/chats/{chat_id}", _control(emu, _history))
    add("GET", "/_emulator/calls", _control(emu, _calls))


def _control(emu: TelegramEmulator, action: Action) -> Callable[[web.Request], Awaitable[Any]]:
    async def serve(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            result = await action(emu, request, body)
        except LookupError as e:
            return web.json_response({"error": str(e)}, status=404)
        except (ValueError, TypeError) as e:
            return web.json_response({"error": str(e)}, status=400)
        return web.json_response(result, dumps=lambda v: json.dumps(v, default=str))

    return serve


def _user(emu: TelegramEmulator, request: web.Request) -> TgUser:
    user_id = int(request.match_info["user_id"])
    if user_id not in emu.users:
        raise LookupError(f"no user {user_id}")
    return emu.users[user_id]


def _chat_of(emu: TelegramEmulator, body: dict[str, Any]) -> TgChat | None:
    return emu.chat(int(body["chat_id"])).chat if body.get("chat_id") else None


async def _create_user(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    fields = {k: v for k, v in body.items() if k in _USER_FIELDS}
    return emu.user(int(body["id"]), **fields).to_json()


async def _message(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError("text is required")
    sent = await emu.send_text(_user(emu, request), text, chat=_chat_of(emu, body))
    return sent.to_json()


async def _click(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    query_id = await emu.click(
        _user(emu, request),
        int(body["message_id"]),
        body.get("callback_data"),
        text=body.get("text"),
        chat=_chat_of(emu, body),
        forge=bool(body.get("forge")),
    )
    return {"callback_query_id": query_id}


async def _pay(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    message_id = body.get("message_id")
    payment = await emu.pay(
        _user(emu, request),
        int(message_id) if message_id is not None else None,
        link=body.get("link"),
        chat=_chat_of(emu, body),
    )
    return dataclasses.asdict(payment)


async def _block(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    user = _user(emu, request)
    emu.block(user, bool(body.get("blocked", True)))
    return {"id": user.id, "blocked": user.blocked}


async def _history(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    history = emu.chat(int(request.match_info["chat_id"]))
    return [
        {**m.to_json(), "from_bot": m.from_bot, "deleted": m.deleted, "edits": m.edits}
        for m in history.messages
    ]


async def _calls(emu: TelegramEmulator, request: web.Request, body: dict[str, Any]) -> Any:
    return [dataclasses.asdict(call) for call in emu.calls]
