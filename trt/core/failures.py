"""Why a job failed, as a code the bot turns into words and a detail support reads."""

from __future__ import annotations

import re
from enum import StrEnum

from trt.errors import KieError
from trt.kie.errors import (
    KieFeatureDisabled,
    KieInsufficientCredits,
    KieMaintenance,
    KieRateLimited,
    KieServerError,
    KieValidationError,
)


class FailureReason(StrEnum):
    GENERATION_FAILED = "generation_failed"  # KIE tried and failed
    REJECTED = "rejected"  # KIE refused the input (jobs failed before the two below existed)
    CONTENT_REFUSED = "content_refused"  # the model's content filter said no
    INVALID_INPUT = "invalid_input"  # a parameter or file KIE would not take (detail: which)
    PROVIDER_OUT_OF_CREDITS = "provider_out_of_credits"  # the operator's KIE account
    PROVIDER_UNAVAILABLE = "provider_unavailable"  # maintenance, overload, outage
    TIMED_OUT = "timed_out"  # no result before the model's deadline
    NOT_SUBMITTED = "not_submitted"  # the task could not be created (or a crash lost it)
    UPLOAD_FAILED = "upload_failed"
    SUPPORT = "support"  # failed by support staff


# Words KIE and its models use when a content filter refused the prompt or a file
# (failMsg, or a createTask refusal): "prohibited content", "flagged … content policies",
# "inappropriate content detected", "unsafe image", "lyrics contain copyrighted content".
_CONTENT_WORDS = re.compile(
    r"prohibit|content polic|flagged|inappropriate|unsafe|nsfw|sensitive|moderat|"
    r"copyright|violat|matches an existing work",
    re.IGNORECASE,
)
_TIMEOUT_WORDS = re.compile(r"time(d)? ?out", re.IGNORECASE)
_BUSY_WORDS = re.compile(
    r"busy|overload|capacity|maintenance|unavailable|too many|rate limit|try again later",
    re.IGNORECASE,
)
_INVALID_CODES = frozenset({"400", "409", "413", "422", "451"})
_BUSY_CODES = frozenset({"429", "455", "503", "550"})


def reason_from_task(fail_code: str | None, fail_message: str | None) -> FailureReason:
    """Why a task KIE ran failed, by kind: what the user can do next differs (change the
    prompt, fix an input, wait and retry), so "the generation failed" is the last resort."""
    code, message = (fail_code or "").strip(), fail_message or ""
    if _CONTENT_WORDS.search(message):
        return FailureReason.CONTENT_REFUSED
    if code == "408" or _TIMEOUT_WORDS.search(message):
        return FailureReason.TIMED_OUT
    if code in _BUSY_CODES or _BUSY_WORDS.search(message):
        return FailureReason.PROVIDER_UNAVAILABLE
    if code in _INVALID_CODES:
        return FailureReason.INVALID_INPUT
    return FailureReason.GENERATION_FAILED


def reason_for(error: KieError) -> FailureReason:
    """The user-facing reason for a KIE error raised while creating a task."""
    if isinstance(error, KieInsufficientCredits):
        return FailureReason.PROVIDER_OUT_OF_CREDITS
    if isinstance(error, KieValidationError):
        refused = _CONTENT_WORDS.search(error.detail)
        return FailureReason.CONTENT_REFUSED if refused else FailureReason.INVALID_INPUT
    if isinstance(error, KieMaintenance | KieServerError | KieRateLimited | KieFeatureDisabled):
        return FailureReason.PROVIDER_UNAVAILABLE
    return FailureReason.NOT_SUBMITTED


def describe(reason: FailureReason, detail: str = "") -> str:
    """What is stored in the job's `error`: `code: detail`, parsed back by `reason_of`."""
    return f"{reason.value}: {detail}" if detail else reason.value


def detail_of(error: str | None) -> str:
    """The detail part of a stored `code: detail` (KIE's own words), or ""."""
    code, _, detail = (error or "").partition(":")
    return detail.strip() if reason_of(code) is not None else ""


def reason_of(error: str | None) -> FailureReason | None:
    if not error:
        return None
    code = error.split(":", 1)[0]
    return FailureReason(code) if code in FailureReason._value2member_map_ else None
