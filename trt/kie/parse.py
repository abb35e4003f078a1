"""Pure parsing of KIE answers: the envelope, its error codes and KIE's loose field types.

Nothing here does I/O, so a table of ``(status, body) -> result | exception`` cases tests
all of it. KIE is inconsistent (API.md §7): ``msg`` or ``message``, errors in the body of
an HTTP 200 or as the HTTP status, JSON documents inside string fields, ``taskId`` or
``task_id``, epoch milliseconds or date strings. Everything here accepts every variant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trt.domain import KieTaskId
from trt.kie.errors import (
    KieBadResponse,
    KieFeatureDisabled,
    KieGenerationFailed,
    KieHTTPError,
    KieInsufficientCredits,
    KieMaintenance,
    KieNotFound,
    KieNotReady,
    KieRateLimited,
    KieServerError,
    KieUnauthorized,
    KieValidationError,
)

_BY_CODE: dict[int, type[KieHTTPError]] = {
    400: KieValidationError,
    401: KieUnauthorized,
    403: KieUnauthorized,
    402: KieInsufficientCredits,
    404: KieNotFound,
    409: KieValidationError,
    413: KieValidationError,
    422: KieValidationError,
    451: KieValidationError,
    429: KieRateLimited,
    455: KieMaintenance,
    501: KieGenerationFailed,
    505: KieFeatureDisabled,
}
_RECORD_IS_NULL = re.compile(r"record(info)?\s+is\s+null|not\s+found", re.IGNORECASE)
_PROCESSING = re.compile(r"\bprocessing\b", re.IGNORECASE)


def parse_response(status: int, body: bytes, *, retry_after: float | None = None) -> Any:
    """The envelope's ``data`` when KIE reports success.

    Raises: a KieHTTPError subclass for an error code in either transport, KieBadResponse
    for anything that is not the envelope.
    """
    text = body.decode("utf-8", errors="replace")
    envelope = _load_envelope(body)
    if envelope is None:
        if status == 200:
            raise KieBadResponse(status, text)
        raise error_for(status, status, "", text, retry_after=retry_after)
    code = _int_or_none(envelope.get("code"))
    message = envelope.get("msg") or envelope.get("message") or ""
    detail = message if isinstance(message, str) else str(message)
    if status != 200:
        # An HTTP-level error: its status wins unless the body names a more precise one.
        effective = code if code is not None and code != 200 else status
        raise error_for(status, effective, detail, text, retry_after=retry_after)
    if code is None:
        if envelope.get("success") is False:
            raise error_for(status, 500, detail, text)
        if "data" not in envelope:
            raise KieBadResponse(status, text, "no code and no data")
        return envelope["data"]
    if code != 200 or envelope.get("success") is False:
        effective = code if code != 200 else 500
        raise error_for(status, effective, detail, text, retry_after=retry_after)
    return envelope.get("data")


def error_for(
    status: int, code: int, detail: str, body: str, *, retry_after: float | None = None
) -> KieHTTPError:
    """The error class for a KIE code (or HTTP status), carrying what KIE said."""
    if code == 429:
        return KieRateLimited(status, code, detail, body, retry_after=retry_after)
    if code == 422 and _RECORD_IS_NULL.search(detail):
        return KieNotFound(status, code, detail, body)
    if code == 400 and _PROCESSING.search(detail):
        return KieNotReady(status, code, detail, body)
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = KieServerError if code >= 500 else KieHTTPError
    return cls(status, code, detail, body)


def _load_envelope(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body) if body.strip() else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def retry_after_seconds(header: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (the HTTP-date form is rare enough to ignore)."""
    if header is None:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def json_field(value: object) -> Any:
    """A field that may hold a JSON document as a string (``param``, ``resultJson``…)."""
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            return json.loads(stripped)
        except ValueError:
            return _bracketed_urls(stripped)
    return value


def _bracketed_urls(text: str) -> Any:
    # Veo's OpenAPI callback example types URL lists as strings like '[http://a, http://b]'.
    if text.startswith("[") and text.endswith("]"):
        return [part.strip().strip("'\"") for part in text[1:-1].split(",") if part.strip()]
    return text


def url_list(value: object) -> tuple[str, ...]:
    """URLs from a list, a JSON string of a list, a single URL, or list items like
    ``{"resultUrl": …}`` (Midjourney's shape)."""
    value = json_field(value)
    if isinstance(value, str):
        return (value,) if value else ()
    if not isinstance(value, list):
        return ()
    urls: list[str] = []
    for item in value:
        if isinstance(item, str) and item:
            urls.append(item)
        elif isinstance(item, Mapping):
            url = item.get("resultUrl") or item.get("url")
            if isinstance(url, str) and url:
                urls.append(url)
    return tuple(urls)


def task_id_of(data: object) -> KieTaskId:
    """``taskId`` or ``task_id`` from a creation answer or a record.

    Raises: KieBadResponse when neither is present.
    """
    if isinstance(data, Mapping):
        value = data.get("taskId") or data.get("task_id")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return KieTaskId(str(value))
    raise KieBadResponse(200, json.dumps(data, default=str)[:500], "no taskId in the answer")


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from epoch seconds or milliseconds, or a date string.

    Strings without a zone are taken as UTC: KIE does not say, and its servers log in UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return _from_epoch(float(text))
        return _from_text(text)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value))
    return None


def _from_text(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_epoch(number: float) -> datetime | None:
    if number <= 0:
        return None
    # Epoch milliseconds are > 1e11 for any date after 1973; seconds are below until 5138.
    seconds = number / 1000 if number > 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def decimal_or_none(value: object) -> Decimal | None:
    """A credit amount from a number or numeric string."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def text_or_none(value: object) -> str | None:
    """A string field where KIE uses "", null and numbers interchangeably."""
    if value is None or value == "":
        return None
    return str(value)
