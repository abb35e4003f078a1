"""The KIE error tree: one class per meaning, whichever transport reported it.

KIE reports errors two ways: a non-200 ``code`` inside an HTTP 200 body, and plain HTTP
statuses (401, 404, 429, 5xx…). Both land on the same class.

    KieError                                    (trt.errors; exit 10)
    ├── KieHTTPError(status, code, detail, body)  KIE answered and said no
    │   ├── KieUnauthorized                     401: the key is missing or wrong
    │   ├── KieInsufficientCredits              402: the KIE account is out of credits
    │   ├── KieValidationError                  400, 409, 422, 451: the request was refused
    │   │   └── KieNotReady                     400 "…is processing": ask again later
    │   ├── KieNotFound                         404, 422 "record is null"; also a LookupError
    │   ├── KieRateLimited(retry_after)         429
    │   ├── KieMaintenance                      455
    │   ├── KieServerError                      500, 502–504, 550 and other 5xx
    │   ├── KieGenerationFailed                 501
    │   └── KieFeatureDisabled                  505
    ├── KieTimeout(sent)                        no answer in time
    ├── KieNetworkError(sent)                   the connection failed
    ├── KieBadResponse(status, body)            an answer that is not KIE's envelope
    └── KieCallbackRejected(reason)             a callback that is not one, or not KIE's
        └── KieSignatureRejected(reason)        its HMAC headers did not check out

Two facts per class drive the retry rule (client.py) and the pipeline:

- ``retryable``: asking again later can give a different answer.
- ``nothing_created``: a createTask that failed this way certainly made no task, so the
  hold can be released or the request sent again without risking a second generation.
"""

from __future__ import annotations

from typing import ClassVar

from trt.errors import KieError

_DETAIL_LIMIT = 200


class KieHTTPError(KieError):
    """KIE answered with an error code, in the body or as the HTTP status."""

    exit_code = 10
    user_key = "error.kie.failed"
    meaning: ClassVar[str] = "KIE refused the request"
    retryable: ClassVar[bool] = False
    nothing_created: ClassVar[bool] = False

    def __init__(self, status: int, code: int, detail: str = "", body: str = "") -> None:
        self.status = status
        self.code = code
        self.detail = _one_line(detail)
        self.body = body[:1000]
        suffix = f" (KIE {code}: {self.detail})" if self.detail else f" (KIE {code})"
        super().__init__(self.meaning + suffix)


class KieUnauthorized(KieHTTPError):
    exit_code = 11
    user_key = "error.kie.unauthorized"
    meaning = "KIE rejected the API key (check KIE_API_KEY)"
    nothing_created = True


class KieInsufficientCredits(KieHTTPError):
    exit_code = 12
    user_key = "error.kie.insufficient_credits"
    meaning = "the KIE account is out of credits"
    nothing_created = True


class KieValidationError(KieHTTPError, ValueError):
    exit_code = 13
    user_key = "error.kie.validation"
    meaning = "KIE rejected the request parameters"
    nothing_created = True


class KieNotReady(KieValidationError):
    user_key = "error.kie.not_ready"
    meaning = "the KIE result is still being prepared"


class KieNotFound(KieHTTPError, LookupError):
    exit_code = 14
    user_key = "error.kie.not_found"
    meaning = "KIE does not know this task or resource"
    nothing_created = True


class KieRateLimited(KieHTTPError):
    exit_code = 15
    user_key = "error.kie.rate_limited"
    meaning = "KIE is rate limiting this account"
    retryable = True
    nothing_created = True  # "excess requests get HTTP 429 and are not queued" (API.md §5)

    def __init__(
        self,
        status: int,
        code: int,
        detail: str = "",
        body: str = "",
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, detail, body)
        self.retry_after = retry_after


class KieMaintenance(KieHTTPError):
    exit_code = 16
    user_key = "error.kie.maintenance"
    meaning = "KIE is under maintenance"
    retryable = True
    nothing_created = True


class KieServerError(KieHTTPError):
    exit_code = 17
    user_key = "error.kie.server"
    meaning = "KIE had an internal error"
    retryable = True


class KieGenerationFailed(KieHTTPError):
    exit_code = 18
    user_key = "error.kie.generation_failed"
    meaning = "KIE failed to generate the result"


class KieFeatureDisabled(KieHTTPError):
    exit_code = 19
    user_key = "error.kie.feature_disabled"
    meaning = "this KIE feature is disabled"
    nothing_created = True


class KieTimeout(KieError):
    """No answer in time; ``sent`` is False when the connection was never made."""

    exit_code = 20
    user_key = "error.kie.timeout"
    retryable: ClassVar[bool] = True

    def __init__(self, *, sent: bool, what: str = "") -> None:
        stage = "answer" if sent else "connect"
        super().__init__(f"KIE did not {stage} in time" + (f" ({what})" if what else ""))
        self.sent = sent

    @property
    def nothing_created(self) -> bool:
        return not self.sent


class KieNetworkError(KieError):
    """The connection failed; ``sent`` is False when it failed before the request went out."""

    exit_code = 21
    user_key = "error.kie.network"
    retryable: ClassVar[bool] = True

    def __init__(self, *, sent: bool, what: str = "") -> None:
        stage = "the connection broke" if sent else "could not connect"
        super().__init__(f"KIE is unreachable: {stage}" + (f" ({what})" if what else ""))
        self.sent = sent

    @property
    def nothing_created(self) -> bool:
        return not self.sent


class KieBadResponse(KieError):
    """An answer that is not KIE's JSON envelope (HTML from a proxy, cut-off JSON…)."""

    exit_code = 22
    user_key = "error.kie.bad_response"
    retryable: ClassVar[bool] = False
    nothing_created: ClassVar[bool] = False

    def __init__(self, status: int, body: str, reason: str = "not KIE's JSON envelope") -> None:
        super().__init__(f"KIE sent an unreadable answer: {reason} (HTTP {status})")
        self.status = status
        self.body = body[:1000]


class KieCallbackRejected(KieError):
    """A callback that failed verification or could not be read; never trusted."""

    exit_code = 23
    user_key = "error.kie.callback_rejected"
    retryable: ClassVar[bool] = False
    nothing_created: ClassVar[bool] = False

    def __init__(self, reason: str) -> None:
        super().__init__(f"KIE callback rejected: {reason}")
        self.reason = reason


class KieSignatureRejected(KieCallbackRejected):
    """A readable callback whose HMAC headers are missing, stale or wrong: not from KIE."""


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _DETAIL_LIMIT else flat[: _DETAIL_LIMIT - 1] + "…"


def is_retryable(error: KieError) -> bool:
    """Whether asking again later can give a different answer."""
    return bool(getattr(error, "retryable", False))


def nothing_created(error: KieError) -> bool:
    """Whether a failed createTask certainly made no task at KIE."""
    return bool(getattr(error, "nothing_created", False))
