"""Checked parameters to a KIE creation request: upload the media inputs' files, then build
the request. `trt submit` and the generation pipeline both go through here, so what one
sends KIE the other sends too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from trt.catalog.spec import ModelSpec
from trt.core.ports import KieApi
from trt.domain import Family
from trt.errors import UsageError
from trt.kie.base import FAMILIES, CreateTask

# KIE's Suno endpoint refuses a request without callBackUrl. With no callback endpoint
# configured (a CLI run, the emulator) we send an address that can never resolve (RFC 6761
# reserves .invalid), so KIE's callback goes nowhere and we learn the outcome by polling.
PLACEHOLDER_CALLBACK_URL: Final = "https://localhost.invalid/trt-no-callback"


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A file for a media input, uploaded to KIE under `name`."""

    name: str
    content: bytes = field(repr=False)
    mime: str

    @classmethod
    def addressed(cls, name: str, content: bytes, mime: str) -> MediaFile:
        """Named by its content: KIE keeps every upload in one folder and overwrites a
        file of the same name, so two users' `photo.jpg` must never share one."""
        return cls(content_name(name, content), content, mime)


def content_name(name: str, content: bytes) -> str:
    """`name` made safe for a URL and prefixed with a digest of `content`."""
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{digest}-{re.sub(r'[^A-Za-z0-9._-]', '_', name)}"


async def upload_media(
    kie: KieApi,
    spec: ModelSpec,
    params: Mapping[str, Any],
    media: Mapping[str, Sequence[MediaFile]],
    *,
    on_upload: Callable[[MediaFile], None] | None = None,
) -> dict[str, Any]:
    """`params` with each media input's files uploaded and their URLs in place.

    An input's value becomes the http(s) URLs it already held, then its files' URLs in
    order; anything else it held was a placeholder for the files. A file given twice is
    uploaded once. Raises: KieError.
    """
    urls: dict[MediaFile, str] = {}
    uploaded = dict(params)
    for name, files in media.items():
        for item in files:
            if item not in urls:
                urls[item] = await kie.upload_file(item.name, item.content, item.mime)
                if on_upload is not None:
                    on_upload(item)
        held = uploaded.get(name)
        given = [v for v in (held if isinstance(held, list) else [held]) if _is_url(v)]
        values = given + [urls[item] for item in files]
        inp = spec.input(name)
        uploaded[name] = values if inp is not None and inp.is_list else values[0]
    return uploaded


def build_request(
    spec: ModelSpec, params: Mapping[str, Any], callback_url: str | None = None
) -> CreateTask:
    """The creation request for validated, uploaded parameters; a parameter left None is
    not sent. Raises: UsageError for a family trt cannot submit to yet."""
    if spec.family not in FAMILIES:
        reason = f"{spec.id} uses the {spec.family} API, which trt cannot submit to yet"
        raise UsageError("MODEL", reason)
    if callback_url is None and spec.family is Family.SUNO:
        callback_url = PLACEHOLDER_CALLBACK_URL
    sent = {key: value for key, value in params.items() if value is not None}
    return CreateTask(spec.family, spec.api_model, sent, callback_url)


def _is_url(value: object) -> bool:
    return isinstance(value, str) and urlsplit(value).scheme in ("http", "https")
