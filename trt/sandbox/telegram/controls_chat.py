"""Controls a chat page needs beyond `controls`: who the users are, what the bot offers,
the files in a chat, uploads from a user, and a long poll for a chat's changes.

    GET  /_emulator/users                      every user: id, names, language
    GET  /_emulator/bot?language_code=…        the bot, its commands for a language, upload limits
    GET  /_emulator/chats/{chat_id}/updates    ?version=…&timeout=…: the chat once it differs
                                               from `version` (or after `timeout` s, ≤ 60)
    GET  /_emulator/files/{file_id}            a file's bytes (a bot's result, a user's upload)
    POST /_emulator/users/{id}/files           multipart: `file`, `kind`, `caption`?

An upload over Telegram's limits is refused with 413 (any file over the emulator's upload
limit) or 400 (a photo over the photo limit: send it as a document), never stored.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
from typing import TYPE_CHECKING, Any

from aiohttp import web

from trt.sandbox.telegram.files import image_size
from trt.sandbox.telegram.model import MB, MEDIA_KINDS, ChatHistory, ChatMessage

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

MAX_WAIT = 60.0


def add_chat_routes(app: web.Application, emu: TelegramEmulator) -> None:
    add = app.router.add_route
    add("GET", "/_emulator/users", _users(emu))
    add("GET", "/_emulator/bot", _bot(emu))
    add("GET", "/_emulator/chats/{chat_id}/updates", _updates(emu))
    add("GET", "/_emulator/files/{file_id}", _file(emu))
    add("POST", "/_emulator/users/{user_id}/files", _upload(emu))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def page_message(message: ChatMessage) -> dict[str, Any]:
    """A message as the Bot API shows it, plus what a page needs to draw it."""
    data = {**message.to_json(), "from_bot": message.from_bot, "kind": message.kind}
    data.update(deleted=message.deleted, edits=message.edits)
    if message.file is not None:
        data["file"] = {
            "url": f"/_emulator/files/{message.file.file_id}",
            "mime_type": message.file.mime_type,
            "file_name": message.file.file_name,
        }
    return data


def chat_version(emu: TelegramEmulator, history: ChatHistory) -> str:
    """Changes whenever a message is added, edited or deleted, or a button is answered."""
    edits = sum(m.edits for m in history.messages)
    deleted = sum(m.deleted for m in history.messages)
    return f"{len(history.messages)}.{edits}.{deleted}.{len(emu.callback_answers)}"


def _notices(emu: TelegramEmulator, chat_id: int) -> list[dict[str, Any]]:
    """The bot's answers to button presses in this chat that carry a text (toasts, alerts)."""
    found = []
    for query_id, answer in emu.callback_answers.items():
        query = emu.callback_queries.get(query_id, {})
        if query.get("message", {}).get("chat", {}).get("id") == chat_id and answer.get("text"):
            alert = str(answer.get("show_alert", "")).lower() in {"true", "1"}
            found.append({"id": query_id, "text": answer["text"], "alert": alert})
    return found


def chat_state(emu: TelegramEmulator, history: ChatHistory) -> dict[str, Any]:
    return {
        "version": chat_version(emu, history),
        "messages": [page_message(m) for m in history.messages],
        "notices": _notices(emu, history.chat.id),
    }


def _users(emu: TelegramEmulator) -> Any:
    async def serve(request: web.Request) -> web.Response:
        users = [{**u.to_json(), "blocked": u.blocked} for u in emu.users.values()]
        return web.json_response(users, dumps=_dumps)

    return serve


def _bot(emu: TelegramEmulator) -> Any:
    async def serve(request: web.Request) -> web.Response:
        language = request.query.get("language_code", "")
        default = json.dumps({"type": "default"}, sort_keys=True)
        commands = emu.commands.get((default, language)) or emu.commands.get((default, ""), [])
        limits = {"upload": emu.options.upload_limit, "photo": emu.options.photo_limit}
        body = {**emu.bot_json(), "commands": commands, "limits": limits}
        return web.json_response(body, dumps=_dumps)

    return serve


def _updates(emu: TelegramEmulator) -> Any:
    async def serve(request: web.Request) -> web.Response:
        try:
            history = emu.chat(int(request.match_info["chat_id"]))
            wait = min(max(float(request.query.get("timeout", "25")), 0.0), MAX_WAIT)
        except LookupError as e:
            return _error(404, str(e))
        except ValueError:
            return _error(400, "chat_id and timeout must be numbers")
        known = request.query.get("version")
        # Nothing new within `wait`: answer the same state; the page asks again.
        with contextlib.suppress(TimeoutError):
            await emu.notifier.until(lambda: chat_version(emu, history) != known, wait)
        return web.json_response(chat_state(emu, history), dumps=_dumps)

    return serve


def _file(emu: TelegramEmulator) -> Any:
    async def serve(request: web.Request) -> web.StreamResponse:
        stored = emu.files.get(request.match_info["file_id"])
        if stored is None:
            return _error(404, "no such file")
        if stored.data is None:
            if stored.url:  # a URL the emulator did not fetch: let the browser try it
                raise web.HTTPFound(stored.url)
            return _error(404, "the file has no content")
        content_type = stored.mime_type or _guess(stored.file_path)
        return web.Response(body=stored.data, content_type=content_type)

    return serve


def _guess(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _upload(emu: TelegramEmulator) -> Any:
    async def serve(request: web.Request) -> web.Response:
        try:
            user = emu.users[int(request.match_info["user_id"])]
            form = await request.post()
        except (KeyError, ValueError):
            return _error(404, f"no user {request.match_info['user_id']}")
        except web.HTTPRequestEntityTooLarge:
            return _too_large(emu)
        upload, kind = form.get("file"), str(form.get("kind") or "document")
        if not isinstance(upload, web.FileField):
            return _error(400, "a multipart field `file` is required")
        if kind not in MEDIA_KINDS:
            return _error(400, f"kind must be one of {', '.join(MEDIA_KINDS)}")
        data = upload.file.read()
        refused = _refusal(emu, kind, len(data))
        if refused is not None:
            return refused
        caption = str(form.get("caption") or "") or None
        details = _details(kind, data, upload.filename, upload.content_type)
        sent = await emu.send_file(user, kind, data, caption=caption, **details)
        return web.json_response(page_message(sent), dumps=_dumps)

    return serve


def _too_large(emu: TelegramEmulator) -> web.Response:
    limit = emu.options.upload_limit // MB
    return _error(413, f"the file is over Telegram's {limit} MB limit")


def _refusal(emu: TelegramEmulator, kind: str, size: int) -> web.Response | None:
    if size == 0:
        return _error(400, "the file is empty")
    if size > emu.options.upload_limit:
        return _too_large(emu)
    if kind == "photo" and size > emu.options.photo_limit:
        limit = emu.options.photo_limit // MB
        return _error(400, f"a photo is at most {limit} MB: send it as a file instead")
    return None


def _details(kind: str, data: bytes, name: str, mime: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"mime_type": mime or _guess(name)}
    if kind != "photo":
        details["file_name"] = name
    else:
        details["width"], details["height"] = image_size(data)
    return details
