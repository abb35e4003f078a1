"""A Bot API request's parameters, from a query string, JSON, form or multipart body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from trt.sandbox.telegram.errors import bad_request

# Fields Telegram reads as JSON-serialized objects when they come as form values.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "prices",
        "commands",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "scope",
        "suggested_tip_amounts",
        "message_ids",
    }
)


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    field: str
    filename: str
    content_type: str | None
    data: bytes


class Params:
    """Typed access to one request's parameters; a missing or wrong one is a 400."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def recorded(self) -> dict[str, Any]:
        """The parameters as recorded for tests: uploads shown by name and size."""
        shown = dict(self.values)
        for name, upload in self.uploads.items():
            shown[name] = f"<upload {upload.filename} ({len(upload.data)} bytes)>"
        return shown

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.uploads

    def text(self, name: str) -> str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"parameter {name!r} is required")
        return str(value)

    def opt_text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int:
        value = self.text(name)
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"parameter {name!r} must be an integer") from None

    def opt_integer(self, name: str) -> int | None:
        return self.integer(name) if self.has(name) else None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}

    def json(self, name: str) -> Any:
        """A JSON-valued parameter, parsed; None when absent."""
        return self.values.get(name)

    def upload(self, reference: str) -> Upload | None:
        """The multipart file a value names: ``attach://<field>`` or the field itself."""
        if reference.startswith("attach://"):
            return self.uploads.get(reference.removeprefix("attach://"))
        return None


def _decoded(name: str, value: Any) -> Any:
    if name not in JSON_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None


async def read_params(request: web.Request) -> Params:
    """Parse the request the way the Bot API does: query, then JSON, form or multipart."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            values.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    uploads[name] = Upload(name, value.filename, value.content_type, data)
                else:
                    values[name] = str(value)
    return Params({name: _decoded(name, value) for name, value in values.items()}, uploads)
