"""Bot API methods for files: sendPhoto/Video/Audio/Document/Voice, sendMediaGroup,
editMessageMedia and getFile.

A file comes as a multipart upload (``attach://<field>`` or the field itself), an HTTP
URL (recorded; fetched only on 127.0.0.1/localhost) or a known ``file_id``. Uploads
over ``upload_limit`` answer 413 like Telegram's front end; photos over ``photo_limit``
answer 400 PHOTO_SAVE_FILE_INVALID; getFile refuses files over ``download_limit``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from trt.sandbox.telegram.errors import ApiError, bad_request
from trt.sandbox.telegram.files import media_json
from trt.sandbox.telegram.methods_messages import apply_edit, edit_target
from trt.sandbox.telegram.model import MEDIA_KINDS, ChatHistory, StoredFile
from trt.sandbox.telegram.params import Params, Upload
from trt.sandbox.telegram.text import caption_text, check_markup

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

_WRONG_FILE = "wrong file identifier/HTTP URL specified"


def _check_upload(emu: TelegramEmulator, kind: str, upload: Upload) -> None:
    if len(upload.data) > emu.options.upload_limit:
        raise ApiError(413, "Request Entity Too Large")
    if kind == "photo" and len(upload.data) > emu.options.photo_limit:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")


async def resolve_file(
    emu: TelegramEmulator, p: Params, kind: str, value: Any, details: dict[str, Any]
) -> StoredFile:
    """The file a request names, stored (uploads, fetched URLs) or looked up (file ids)."""
    upload = value if isinstance(value, Upload) else p.upload(str(value or ""))
    if upload is not None:
        _check_upload(emu, kind, upload)
        name = upload.filename if kind != "photo" else None
        return emu.files.add(
            kind, upload.data, file_name=name, mime_type=upload.content_type, **details
        )
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {kind} in the request")
    if value.startswith(("http://", "https://")):
        data = await emu.fetch_local(value)
        name = value.rsplit("/", 1)[-1].split("?", 1)[0] or None
        return emu.files.add(kind, data, url=value, file_name=name, **details)
    stored = emu.files.get(value)
    if stored is None:
        raise bad_request(_WRONG_FILE)
    if stored.kind != kind:
        raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
    return stored


def _details(values: dict[str, Any]) -> dict[str, Any]:
    """Width, height and duration as the sender stated them."""
    found = {n: values.get(n) for n in ("width", "height", "duration")}
    try:
        return {n: int(v) for n, v in found.items() if v not in (None, "")}
    except (TypeError, ValueError):
        raise bad_request("width, height and duration must be integers") from None


def _media_fields(emu: TelegramEmulator, kind: str, stored: StoredFile) -> dict[str, Any]:
    sizes = emu.files.photo_sizes(stored) if kind == "photo" else [stored]
    return media_json(kind, stored, sizes)


async def _send_media(emu: TelegramEmulator, p: Params, kind: str) -> Any:
    history = emu.target_chat(p.integer("chat_id"))
    caption, entities = caption_text(
        p.opt_text("caption"), p.opt_text("parse_mode"), p.json("caption_entities")
    )
    markup = check_markup(p.json("reply_markup"))
    value = p.uploads.get(kind) or p.values.get(kind)
    stored = await resolve_file(emu, p, kind, value, _details(p.values))
    emu.check_flood(history)
    message = emu.add_message(
        history, sender=None, kind=kind, file=stored, caption=caption, entities=entities,
        reply_markup=markup, media=_media_fields(emu, kind, stored),
    )  # fmt: skip
    return message.to_json()


def _sender(kind: str) -> Any:
    async def send(emu: TelegramEmulator, p: Params) -> Any:
        return await _send_media(emu, p, kind)

    return send


async def _group_item(
    emu: TelegramEmulator, p: Params, history: ChatHistory, item: Any, group_id: str
) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("type") not in MEDIA_KINDS:
        raise bad_request("can't parse InputMedia: media type is invalid")
    kind = str(item["type"])
    caption, entities = caption_text(
        item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
    )
    stored = await resolve_file(emu, p, kind, item.get("media"), _details(item))
    return {
        "kind": kind, "file": stored, "caption": caption, "entities": entities,
        "media": _media_fields(emu, kind, stored), "media_group_id": group_id,
    }  # fmt: skip


async def send_media_group(emu: TelegramEmulator, p: Params) -> Any:
    history = emu.target_chat(p.integer("chat_id"))
    media = p.json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("media group must contain 2-10 items")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if len(kinds) > 1 and not kinds <= {"photo", "video"}:
        raise bad_request("MEDIA_GROUP_INVALID: documents and audio can't be mixed")
    group_id = str(secrets.randbits(60))
    items = [await _group_item(emu, p, history, item, group_id) for item in media]
    emu.check_flood(history)
    return [emu.add_message(history, sender=None, **item).to_json() for item in items]


async def edit_message_media(emu: TelegramEmulator, p: Params) -> Any:
    message = edit_target(emu, p)
    media = p.json("media")
    if message.file is None:
        raise bad_request("there is no media in the message to edit")
    if not isinstance(media, dict) or media.get("type") not in MEDIA_KINDS:
        raise bad_request("can't parse InputMedia: media type is invalid")
    kind = str(media["type"])
    caption, entities = caption_text(
        media.get("caption"), media.get("parse_mode"), media.get("caption_entities")
    )
    stored = await resolve_file(emu, p, kind, media.get("media"), _details(media))
    result = apply_edit(
        message, kind=kind, file=stored, caption=caption, entities=entities,
        media=_media_fields(emu, kind, stored), reply_markup=check_markup(p.json("reply_markup")),
    )  # fmt: skip
    emu.notifier.notify()
    return result


async def get_file(emu: TelegramEmulator, p: Params) -> Any:
    stored = emu.files.get(p.text("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    if (stored.size or 0) > emu.options.download_limit:
        raise bad_request("file is too big")
    return {**stored.base_json(), "file_path": stored.file_path}


HANDLERS = {
    **{f"send{kind.title()}": _sender(kind) for kind in MEDIA_KINDS},
    "sendMediaGroup": send_media_group,
    "editMessageMedia": edit_message_media,
    "getFile": get_file,
}
