"""Files users send for a model's media inputs: which message kinds fit which input, and
the size and type checks done before anything is downloaded or uploaded."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import Message

from trt.bot.wizard.form import MediaItem
from trt.catalog.kinds import InputType
from trt.catalog.spec import InputSpec

# getFile serves files up to 20 MB to bots on Telegram's own Bot API server.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
FAMILY = {
    InputType.IMAGE: "image", InputType.IMAGES: "image",
    InputType.VIDEO: "video", InputType.VIDEOS: "video",
    InputType.AUDIO: "audio", InputType.AUDIOS: "audio",
}  # fmt: skip


@dataclass(frozen=True)
class Rejected:
    """Why a file does not fit: a locale key and its values."""

    key: str
    values: dict[str, object]


def received(message: Message) -> MediaItem | None:
    """The file in a message (largest photo size), or None when it carries none."""
    if message.photo:
        p = message.photo[-1]
        return MediaItem(p.file_id, "image/jpeg", p.file_size or 0, "photo.jpg")
    found = (message.document or message.video or message.audio or message.voice
             or message.video_note or message.animation)  # fmt: skip
    if found is None:
        return None
    mime = getattr(found, "mime_type", None) or _default_mime(message)
    name = getattr(found, "file_name", None) or f"file.{mime.rsplit('/', 1)[-1]}"
    return MediaItem(found.file_id, mime, found.file_size or 0, name)


def _default_mime(message: Message) -> str:
    if message.voice:
        return "audio/ogg"
    if message.audio:
        return "audio/mpeg"
    return "video/mp4"  # video notes and animations


def limit_bytes(inp: InputSpec) -> int:
    return min(inp.max_bytes or TELEGRAM_DOWNLOAD_LIMIT, TELEGRAM_DOWNLOAD_LIMIT)


def check(inp: InputSpec, item: MediaItem) -> Rejected | None:
    """None when the file fits the input; else why not (wrong kind, type or size)."""
    family = FAMILY.get(inp.type)
    if family is None or not item.mime.startswith(f"{family}/"):
        return Rejected("wrong.need_media", {"what": f"media.{inp.type.value}"})
    allowed = inp.media_types or ()
    if allowed and item.mime not in allowed and not _jpeg_alias(item.mime, allowed):
        return Rejected("wrong.bad_type", {"mime": item.mime, "types": ", ".join(allowed)})
    if item.size > limit_bytes(inp):
        mb = limit_bytes(inp) / 1024 / 1024
        return Rejected(
            "wrong.too_big", {"size": f"{item.size / 1024 / 1024:.1f}", "mb": f"{mb:g}"}
        )
    return None


def _jpeg_alias(mime: str, allowed: tuple[str, ...]) -> bool:
    return mime in ("image/jpg", "image/jpeg") and bool({"image/jpg", "image/jpeg"} & set(allowed))
