"""Why a job failed, as a code the bot turns into words and a detail support reads."""

from __future__ import annotations

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
    REJECTED = "rejected"  # KIE refused the input (moderation, validation)
    PROVIDER_OUT_OF_CREDITS = "provider_out_of_credits"  # the operator's KIE account
    PROVIDER_UNAVAILABLE = "provider_unavailable"  # maintenance, overload, outage
    TIMED_OUT = "timed_out"  # no result before the model's deadline
    NOT_SUBMITTED = "not_submitted"  # the task could not be created (or a crash lost it)
    UPLOAD_FAILED = "upload_failed"
    SUPPORT = "support"  # failed by support staff


def reason_for(error: KieError) -> FailureReason:
    """The user-facing reason for a KIE error raised while creating a task."""
    if isinstance(error, KieInsufficientCredits):
        return FailureReason.PROVIDER_OUT_OF_CREDITS
    if isinstance(error, KieValidationError):
        return FailureReason.REJECTED
    if isinstance(error, KieMaintenance | KieServerError | KieRateLimited | KieFeatureDisabled):
        return FailureReason.PROVIDER_UNAVAILABLE
    return FailureReason.NOT_SUBMITTED


def describe(reason: FailureReason, detail: str = "") -> str:
    """What is stored in the job's `error`: `code: detail`, parsed back by `reason_of`."""
    return f"{reason.value}: {detail}" if detail else reason.value


def reason_of(error: str | None) -> FailureReason | None:
    if not error:
        return None
    code = error.split(":", 1)[0]
    return FailureReason(code) if code in FailureReason._value2member_map_ else None
