"""One generation from start to finish, without the bot's money: check, upload, submit,
poll, download. `trt submit` drives it; uploading and building the request are
`trt.core.request`'s, which the pipeline uses too.
"""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from trt.catalog.params import parse_params
from trt.catalog.pricing import Pricing, credits_for
from trt.catalog.spec import InputSpec, ModelSpec
from trt.core.ports import KieApi
from trt.core.request import MediaFile, content_name
from trt.core.schedule import WATCHED, PollSchedule
from trt.domain import Family, KieTaskId
from trt.errors import InvalidParameters, TrtError
from trt.kie.base import TaskRecord
from trt.kie.errors import KieGenerationFailed, KieNotFound

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Fetch = Callable[[str], Awaitable[bytes]]
OnUpdate = Callable[[TaskRecord, float], None]

_FILE_SCHEME = "file://"
_SNIFF_BYTES = 64
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "image/jpg": "image/jpeg",
}


class TaskTimedOut(TrtError):
    """The task did not end within the time the caller was willing to wait."""

    exit_code = 124  # what GNU `timeout` exits with

    def __init__(self, task_id: str, seconds: float, record: TaskRecord | None) -> None:
        last = f" (last seen: {record.state})" if record else ""
        super().__init__(
            f"task {task_id} did not finish within {seconds:g} s{last}; "
            "it may still finish at KIE, so check it later by this id"
        )
        self.task_id = task_id
        self.record = record


class DownloadFailed(TrtError):
    """A result could not be fetched or saved."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"could not download {url}: {reason}")
        self.url = url


@dataclass(frozen=True)
class LocalFile:
    """A file to upload for a media input, already checked against the input's limits."""

    key: str
    path: Path
    mime: str
    content: bytes = field(repr=False)

    @property
    def placeholder(self) -> str:
        """Stands in for the URL while the parameters are validated."""
        return _FILE_SCHEME + str(self.path)

    @property
    def upload_name(self) -> str:
        """A content-addressed name: KIE overwrites uploads with the same name."""
        return content_name(self.path.name, self.content)


@dataclass(frozen=True)
class SubmitPlan:
    """A checked request and its price; `params` hold placeholders for `files`."""

    spec: ModelSpec
    params: Mapping[str, Any]
    files: tuple[LocalFile, ...]
    credits: Decimal
    stars: int

    @property
    def media(self) -> dict[str, list[MediaFile]]:
        """The files to upload, by input, under their content-addressed names."""
        media: dict[str, list[MediaFile]] = {}
        for item in self.files:
            media.setdefault(item.key, []).append(
                MediaFile(item.upload_name, item.content, item.mime)
            )
        return media


KIE_POLLING: Final = WATCHED


def prepare(
    spec: ModelSpec,
    sets: Sequence[tuple[str, str]],
    files: Sequence[tuple[str, Path]],
    pricing: Pricing,
) -> SubmitPlan:
    """Validate everything before any upload. Raises: InvalidParameters, PriceUnknown."""
    local = [read_local_file(_file_input(spec, key), path) for key, path in files]
    raw: dict[str, Any] = {}
    for key, value in sets:
        inp = spec.input(key)
        if inp is not None and inp.is_media and not _is_url(value):
            hint = f"upload a file with --file {key}=PATH"
            raise InvalidParameters([f"{key}: {value!r} is not a URL; {hint}"])
        if inp is not None and inp.is_list:
            raw.setdefault(key, []).extend(value.split())
        elif key in raw:
            raise InvalidParameters([f"{key}: given more than once"])
        else:
            raw[key] = value
    for item in local:
        inp = spec.input(item.key)
        if inp is not None and inp.is_list:
            raw.setdefault(item.key, []).append(item.placeholder)
        elif item.key in raw:
            raise InvalidParameters([f"{item.key}: takes one file"])
        else:
            raw[item.key] = item.placeholder
    params = parse_params(spec, raw)
    credits = credits_for(spec, params)
    return SubmitPlan(spec, params, tuple(local), credits, pricing.stars(credits))


def _file_input(spec: ModelSpec, key: str) -> InputSpec:
    inp = spec.input(key)
    if inp is None or not inp.is_media:
        names = ", ".join(i.name for i in spec.media_inputs)
        allowed = f"file inputs: {names}" if names else "this model takes no files"
        raise InvalidParameters([f"{key}: not a file input; {allowed}"])
    return inp


def read_local_file(inp: InputSpec, path: Path) -> LocalFile:
    """A file checked against the input's size limit and media types, read into memory.

    The type comes from the file's first bytes, else from its extension. Raises:
    InvalidParameters naming the input and what it accepts.
    """
    allowed = inp.media_types or ()
    try:
        size = path.stat().st_size
        if inp.max_bytes is not None and size > inp.max_bytes:
            limit = _size(inp.max_bytes)
            raise InvalidParameters([f"{inp.name}: {path.name} is {_size(size)}; at most {limit}"])
        content = path.read_bytes()
    except OSError as exc:
        raise InvalidParameters([f"{inp.name}: cannot read {path}: {exc.strerror}"]) from None
    mime = sniff_media_type(content[:_SNIFF_BYTES]) or mimetypes.guess_type(path.name)[0]
    canonical = {_ALIASES.get(a, a) for a in allowed}
    if mime is None or _ALIASES.get(mime, mime) not in canonical:
        found = mime or "an unknown type"
        shown = ", ".join(allowed)
        raise InvalidParameters([f"{inp.name}: {path.name} is {found}; allowed: {shown}"])
    return LocalFile(inp.name, path, mime, content)


def sniff_media_type(head: bytes) -> str | None:
    """The MIME type the first bytes of a file announce, for the types KIE accepts."""
    signatures = (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"ID3", "audio/mpeg"),
        (b"OggS", "audio/ogg"),
    )
    for magic, mime in signatures:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF":
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return {b"qt  ": "video/quicktime", b"M4A ": "audio/mp4"}.get(head[8:12], "video/mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # MPEG audio frame sync; layer bits 00 mean an AAC ADTS stream instead.
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    return None


# KIE answers "recordInfo is null" for a task it created a moment ago (API.md §3): for this
# long after creation that means "not ready yet", afterwards "KIE does not know the task".
UNKNOWN_TASK_GRACE = 60.0


async def wait_for_task(
    kie: KieApi,
    family: Family,
    task_id: KieTaskId,
    *,
    max_wait: float,
    schedule: PollSchedule = KIE_POLLING,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
    on_update: OnUpdate | None = None,
) -> TaskRecord:
    """Poll until the task succeeds or fails, pausing as `schedule` says, for at most
    `max_wait` seconds.

    The last pause is cut short so that KIE is asked once more at the deadline.
    Raises: TaskTimedOut, KieError.
    """
    start = clock()
    record: TaskRecord | None = None
    while True:
        remaining = max_wait - (clock() - start)
        if remaining <= 0:
            raise TaskTimedOut(task_id, max_wait, record)
        await sleep(min(schedule.delay(clock() - start), remaining))
        try:
            record = await kie.get_task(family, task_id)
        except KieNotFound:
            if clock() - start < UNKNOWN_TASK_GRACE:  # KIE has not recorded it yet
                continue
            raise
        if on_update is not None:
            on_update(record, clock() - start)
        if record.state.is_final:
            return record


def task_failed(record: TaskRecord) -> KieGenerationFailed:
    """The error for a task that ended in `fail`, with KIE's code and message."""
    code = record.fail_code or ""
    detail = f"task {record.task_id}: {record.fail_message or 'no reason given'}"
    if not code.isdigit():
        detail += f" [{code}]" if code else ""
        code = "501"
    return KieGenerationFailed(200, int(code), detail)


async def download_results(urls: Sequence[str], folder: Path, fetch: Fetch) -> list[Path]:
    """Save each result in `folder`, named after its URL; an existing file is never
    replaced (``name-1.png`` instead). Raises: DownloadFailed."""
    make_folder(folder)
    saved = []
    for index, url in enumerate(urls):
        content = await fetch(url)
        saved.append(save_new_file(folder, result_file_name(url, index), content))
    return saved


def make_folder(folder: Path) -> None:
    """Create `folder` and its parents if needed. Raises: DownloadFailed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadFailed(str(folder), exc.strerror or str(exc)) from None


def result_file_name(url: str, index: int) -> str:
    """The last part of the URL's path, made safe; ``result-N`` when there is none."""
    name = unquote(urlsplit(url).path.rpartition("/")[2])
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return name or f"result-{index}"


def save_new_file(folder: Path, name: str, content: bytes) -> Path:
    """Write `content` under `name`, or `stem-N.suffix` if taken; never overwrites."""
    base = Path(name)
    for n in itertools.count():
        path = folder / (name if n == 0 else f"{base.stem}-{n}{base.suffix}")
        try:
            with path.open("xb") as out:
                out.write(content)
        except FileExistsError:
            continue
        except OSError as exc:
            raise DownloadFailed(str(path), exc.strerror or str(exc)) from None
        return path
    raise AssertionError("unreachable")  # pragma: no cover


def _is_url(value: str) -> bool:
    urls = value.split()
    return bool(urls) and all(urlsplit(u).scheme in ("http", "https") for u in urls)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n} bytes"
