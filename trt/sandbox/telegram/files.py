"""Files the emulator holds: ids like Telegram's, photo sizes, and the media JSON shapes."""

from __future__ import annotations

import itertools
import secrets
import struct
from typing import Any

from trt.sandbox.telegram.model import StoredFile

_FOLDERS = {"photo": "photos", "video": "videos", "audio": "music", "voice": "voice",
            "document": "documents"}  # fmt: skip
_DEFAULT_EXT = {"photo": "jpg", "video": "mp4", "audio": "mp3", "voice": "oga", "document": "bin"}
_DEFAULT_MIME = {"video": "video/mp4", "audio": "audio/mpeg", "voice": "audio/ogg",
                 "document": "application/octet-stream"}  # fmt: skip
THUMB_SIDE = 90


class FileStore:
    """Every file by `file_id` and by `file_path` (what getFile hands out)."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._numbers = itertools.count()
        self._ladders: dict[str, list[StoredFile]] = {}

    def add(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        url: str | None = None,
        width: int = 0,
        height: int = 0,
        duration: int = 0,
    ) -> StoredFile:
        """Store a file under fresh ids; images get their real width and height."""
        ext = (file_name or "").rpartition(".")[2] if "." in (file_name or "") else None
        path = f"{_FOLDERS.get(kind, 'documents')}/file_{next(self._numbers)}."
        path += ext or _DEFAULT_EXT.get(kind, "bin")
        if kind == "photo" and not width:
            width, height = image_size(data) if data is not None else (512, 512)
        stored = StoredFile(
            file_id=_file_id(kind), file_unique_id="AQAD" + secrets.token_urlsafe(9),
            kind=kind, data=data, file_path=path, file_name=file_name,
            mime_type=mime_type or _DEFAULT_MIME.get(kind), url=url,
            width=width, height=height, duration=duration,
        )  # fmt: skip
        self.files[stored.file_id] = stored
        self.by_path[path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    def photo_sizes(self, original: StoredFile) -> list[StoredFile]:
        """Telegram's size ladder: a small thumbnail, then the original.

        The emulator does not resize: the thumbnail has scaled dimensions but the
        original's bytes, so every size downloads.
        """
        if original.file_id in self._ladders:
            return self._ladders[original.file_id]
        scale = THUMB_SIDE / max(original.width, original.height, 1)
        if scale >= 1:
            return [original]
        thumb = self.add(
            "photo",
            original.data,
            url=original.url,
            width=max(1, round(original.width * scale)),
            height=max(1, round(original.height * scale)),
        )
        ladder = self._ladders[original.file_id] = [thumb, original]
        return ladder


def _file_id(kind: str) -> str:
    prefix = {"photo": "AgAC", "video": "BAAC", "audio": "CQAC", "voice": "AwAC"}
    return prefix.get(kind, "BQAC") + secrets.token_urlsafe(48)


def photo_json(size: StoredFile) -> dict[str, Any]:
    return {**size.base_json(), "width": size.width, "height": size.height}


def media_json(kind: str, stored: StoredFile, sizes: list[StoredFile]) -> dict[str, Any]:
    """The message field for a sent file: ``{"photo": [...]}``, ``{"video": {...}}``…"""
    if kind == "photo":
        return {"photo": [photo_json(size) for size in sizes]}
    data = stored.base_json()
    if kind == "video":
        data.update(width=stored.width or 640, height=stored.height or 360)
    if kind in ("video", "audio", "voice"):
        data["duration"] = stored.duration
    if stored.file_name and kind in ("video", "audio", "document"):
        data["file_name"] = stored.file_name
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return {kind: data}


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG; 512×512 when the format is unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        found = _jpeg_size(data)
        if found:
            return found
    return 512, 512


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return None
