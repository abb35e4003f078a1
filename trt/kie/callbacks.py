"""KIE completion callbacks: HMAC verification and each family's body.

A callback is only a trigger: the server answers it fast and settles the job from the
record it then fetches (recordInfo is the authority, DESIGN.md). That is also why the
signature, which covers only ``taskId.timestamp`` and not the body (API.md §2.6), is
enough: a forged or replayed body can at most make trt ask KIE about a task.

Replay window: ``X-Webhook-Timestamp`` must be within `REPLAY_WINDOW` (5 minutes, the
tolerance Stripe and Slack use) of our clock, either way. KIE gives a receiver 15 s and
retries a few times; 5 minutes leaves room for those retries and for clock skew, while a
captured signature stops working soon. A late retry that falls outside is harmless: the
reconciler polls jobs whose callback never arrived.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from trt.domain import Family, KieTaskId
from trt.kie.base import TaskRecord
from trt.kie.errors import KieBadResponse, KieCallbackRejected, KieSignatureRejected
from trt.kie.parse import json_field, task_id_of, text_or_none, url_list
from trt.kie.records import market_record, suno_audio_urls
from trt.kie.states import TaskState

TIMESTAMP_HEADER: Final = "X-Webhook-Timestamp"
SIGNATURE_HEADER: Final = "X-Webhook-Signature"
REPLAY_WINDOW: Final = 300.0
MAX_TASK_ID_CHARS: Final = 128
MAX_TIMESTAMP_DIGITS: Final = 12  # Unix seconds need 10 until the year 2286


def sign(task_id: str, timestamp: str, key: str) -> str:
    """KIE's signature: base64(HMAC-SHA256(key, "<taskId>.<timestamp>"))."""
    # surrogatepass: a forged task id may hold a lone surrogate; it then merely mismatches.
    message = f"{task_id}.{timestamp}".encode("utf-8", "surrogatepass")
    mac = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def verify_signature(
    *,
    task_id: str,
    timestamp: str | None,
    signature: str | None,
    key: str,
    now: float | None = None,
    window: float = REPLAY_WINDOW,
) -> None:
    """Accept a callback's HMAC headers or raise.

    Raises: KieSignatureRejected (missing headers, stale timestamp, wrong signature).
    """
    if not timestamp or not signature:
        raise KieSignatureRejected("missing signature headers")
    stamp = timestamp.strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_TIMESTAMP_DIGITS):
        raise KieSignatureRejected("timestamp is not an integer of Unix seconds")
    sent_at = int(stamp)
    current = time.time() if now is None else now
    if abs(current - sent_at) > window:
        raise KieSignatureRejected("timestamp outside the replay window")
    expected = sign(task_id, stamp, key)
    # aiohttp keeps undecodable header bytes as surrogate escapes: compare raw bytes.
    given = signature.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(expected.encode(), given):
        raise KieSignatureRejected("signature does not match")


@dataclass(frozen=True)
class KieCallback:
    """What a callback says. ``final`` is False for Suno's ``text``/``first`` stages."""

    task_id: KieTaskId
    family: Family
    code: int | None
    message: str
    state: TaskState
    result_urls: tuple[str, ...] = ()
    fail_code: str | None = None
    stage: str | None = None
    record: TaskRecord | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def final(self) -> bool:
        return self.state.is_final

    @property
    def consumed_credits(self) -> Decimal | None:
        """The `consumeCredits` of a success callback: what KIE charged for the task (only
        Market callbacks carry it; recordInfo does not)."""
        if self.state is not TaskState.SUCCESS or self.record is None:
            return None
        return self.record.credits_consumed


def parse_callback(body: bytes, family: Family | None = None) -> KieCallback:
    """A callback body of any family (guessed from its shape when `family` is None).

    Raises: KieCallbackRejected when the body is not a callback.
    """
    try:
        envelope = json.loads(body)
    except RecursionError:
        raise KieCallbackRejected("body is nested too deeply") from None
    except ValueError:  # also UnicodeDecodeError: bytes that are no Unicode text
        raise KieCallbackRejected("body is not JSON") from None
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get("data"), Mapping):
        raise KieCallbackRejected("body has no data object")
    data: Mapping[str, Any] = envelope["data"]
    family = family or guess_family(data)
    try:
        callback = _PARSERS[family](envelope, data)
    except KieBadResponse as e:
        raise KieCallbackRejected(e.message) from None
    if not _plausible_task_id(callback.task_id):
        raise KieCallbackRejected("taskId is not a KIE task id")
    return callback


def _plausible_task_id(task_id: str) -> bool:
    """KIE's ids are short ASCII; anything else (a lone surrogate, a megabyte) is forged
    and would only trouble the database lookup."""
    return len(task_id) <= MAX_TASK_ID_CHARS and task_id.isascii() and task_id.isprintable()


def verify_and_parse(
    body: bytes,
    headers: Mapping[str, str],
    *,
    key: str | None,
    family: Family | None = None,
    now: float | None = None,
) -> KieCallback:
    """Parse a callback and, when an HMAC key is configured, check its signature.

    `headers` should be case-insensitive (aiohttp's and httpx's are).
    Raises: KieSignatureRejected (headers missing, stale or wrong), KieCallbackRejected
    (not a callback).
    """
    callback = parse_callback(body, family)
    if key:
        verify_signature(
            task_id=callback.task_id,
            timestamp=headers.get(TIMESTAMP_HEADER),
            signature=headers.get(SIGNATURE_HEADER),
            key=key,
            now=now,
        )
    return callback


def guess_family(data: Mapping[str, Any]) -> Family:
    """Suno callbacks carry ``callbackType``, Veo ones ``info``/``promptJson``."""
    if "callbackType" in data:
        return Family.SUNO
    if "info" in data or "promptJson" in data or "fallbackFlag" in data:
        return Family.VEO
    return Family.MARKET


def _code(envelope: Mapping[str, Any]) -> int | None:
    code = envelope.get("code")
    try:
        return int(code) if code is not None and not isinstance(code, bool) else None
    except (TypeError, ValueError):
        return None


def _message(envelope: Mapping[str, Any]) -> str:
    return str(envelope.get("msg") or envelope.get("message") or "")


def _market(envelope: Mapping[str, Any], data: Mapping[str, Any]) -> KieCallback:
    record = market_record(data)
    code = _code(envelope)
    state = record.state
    if not state.is_final:  # a callback is a completion; trust the code if state is odd
        state = TaskState.SUCCESS if code == 200 else TaskState.FAIL
    return KieCallback(
        task_id=record.task_id,
        family=Family.MARKET,
        code=code,
        message=_message(envelope),
        state=state,
        result_urls=record.result_urls,
        fail_code=record.fail_code or (None if code == 200 else text_or_none(code)),
        record=record,
        raw=dict(envelope),
    )


def _veo(envelope: Mapping[str, Any], data: Mapping[str, Any]) -> KieCallback:
    code = _code(envelope)
    info = json_field(data.get("info"))
    urls = url_list(info.get("resultUrls")) if isinstance(info, Mapping) else ()
    ok = code == 200
    return KieCallback(
        task_id=task_id_of(data),
        family=Family.VEO,
        code=code,
        message=_message(envelope),
        state=TaskState.SUCCESS if ok else TaskState.FAIL,
        result_urls=urls if ok else (),
        fail_code=None if ok else text_or_none(code),
        raw=dict(envelope),
    )


_SUNO_STAGES = {"text": TaskState.GENERATING, "first": TaskState.GENERATING}


def _suno(envelope: Mapping[str, Any], data: Mapping[str, Any]) -> KieCallback:
    code = _code(envelope)
    stage = str(data.get("callbackType") or "").lower() or None
    if code != 200 or stage == "error":
        state = TaskState.FAIL
    else:
        state = _SUNO_STAGES.get(stage or "", TaskState.SUCCESS)
    return KieCallback(
        task_id=task_id_of(data),
        family=Family.SUNO,
        code=code,
        message=_message(envelope),
        state=state,
        result_urls=suno_audio_urls(data.get("data")) if state is not TaskState.FAIL else (),
        fail_code=text_or_none(code) if state is TaskState.FAIL else None,
        stage=stage,
        raw=dict(envelope),
    )


_PARSERS = {Family.MARKET: _market, Family.VEO: _veo, Family.SUNO: _suno}
