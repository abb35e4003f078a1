"""The one exception tree of trt.

Every error that can reach a user or an operator is a ``TrtError``. Each class
knows its CLI exit code and the locale key the bot shows; the edges (one
handler in ``trt.cli``, one error router in ``trt.bot``) turn them into output.

    TrtError
    ├── UsageError                  a bad value on the command line
    ├── ConfigError(problems)       missing or malformed settings
    ├── PortUnavailable(host, port) the address to listen on is taken or not ours
    ├── StoreError
    │   ├── DatabaseUnavailable(host)
    │   ├── SchemaNotMigrated(current, expected)
    │   ├── DatabaseMissing(location)  no SQLite file there (commands never create one)
    │   ├── BackupFailed(reason)    `trt db backup` could not make a copy (no pg_dump, …)
    │   ├── NotFound(what, key)     also a LookupError
    │   │   ├── JobNotFound
    │   │   ├── UserNotFound
    │   │   ├── PaymentNotFound
    │   │   ├── PromoNotFound
    │   │   └── BroadcastNotFound
    │   ├── InsufficientBalance(user_id, needed, available)
    │   ├── TooManyActiveJobs(user_id, limit)
    │   ├── LedgerConflict          e.g. charging a job that was released
    │   └── InvalidTransition(job_id, current, target)
    ├── RegistryError
    │   ├── ModelNotFound(model_id, suggestions)
    │   ├── RegistryInvalid(problems)
    │   ├── InvalidParameters(errors)
    │   ├── PriceUnknown(model_id, reason)
    │   └── ModelDisabled(model_id, reason)  an operator took it off sale
    ├── PaymentError
    │   ├── PaymentRefused(reason)  an invoice or payment that does not check out
    │   ├── AlreadyRefunded(charge_id)
    │   ├── RefundExceedsBalance(charge_id, needed, available)
    │   └── RefundFailed            Telegram refused refundStarPayment
    ├── PromoError
    │   ├── PromoExists(code)
    │   └── PromoRefused(code, reason)
    ├── BroadcastError
    │   ├── BroadcastTextInvalid(reason)  over Telegram's length, or HTML it would refuse
    │   └── BroadcastFinished(broadcast_id, state)  cancelling one that is over
    ├── KieError                    (subclasses in trt.kie.errors)
    ├── TaskTimedOut, DownloadFailed  (trt.core.submit: `trt submit` only)
    ├── DeliveryFailed(final)       (trt.core.ports: a result that did not reach the chat)
    ├── LeaderStuck                 (trt.core.reconciler: a leader's turn hung; it stepped down)
    └── TaskEnded                   (trt.core.supervisor: a serve loop returned; restarted)

Messages never contain secrets: callers pass hosts, ids and variable names,
never URLs with passwords or tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class TrtError(Exception):
    """Base of every error trt raises on purpose."""

    exit_code: ClassVar[int] = 1
    user_key: ClassVar[str] = "error.generic"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(TrtError, ValueError):
    """A command-line value that cannot be used; the message names the option."""

    exit_code = 2

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


class ConfigError(TrtError):
    """Settings are missing or malformed; every problem is listed by variable name."""

    exit_code = 78  # EX_CONFIG from sysexits.h

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration:\n{lines}")


class PortUnavailable(TrtError):
    """A server cannot listen where it was told to (another process has the port)."""

    exit_code = 69  # EX_UNAVAILABLE

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port


class StoreError(TrtError):
    """Something went wrong in persistence."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached; names the host, never the password."""

    exit_code = 69  # EX_UNAVAILABLE

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"database at {host} is unreachable: {reason}")
        self.host = host


class SchemaNotMigrated(StoreError):
    """The database schema is not at the revision this code needs."""

    exit_code = 75  # EX_TEMPFAIL: fixable by running a command

    def __init__(self, current: str | None, expected: str) -> None:
        where = f"at revision {current}" if current else "not initialised"
        super().__init__(
            f"database schema is {where}, this version needs {expected}; run `trt db upgrade`"
        )
        self.current = current
        self.expected = expected


class DatabaseMissing(StoreError):
    """No SQLite file where DATABASE_URL points: only `trt db upgrade` creates one."""

    exit_code = 75  # EX_TEMPFAIL, like an unmigrated schema: fixable by running a command

    def __init__(self, location: str) -> None:
        super().__init__(f"no database at {location}: run `trt db upgrade` to create it")
        self.location = location


class BackupFailed(StoreError):
    """`trt db backup` made no copy; the reason names what to do, never a password."""

    exit_code = 69  # EX_UNAVAILABLE

    def __init__(self, reason: str) -> None:
        super().__init__(f"no backup made: {reason}")
        self.reason = reason


class NotFound(StoreError, LookupError):
    """A looked-up record does not exist."""

    exit_code = 3
    user_key = "error.not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} not found: {key}")
        self.what = what
        self.key = key


class JobNotFound(NotFound):
    def __init__(self, job_id: object) -> None:
        super().__init__("job", job_id)


class UserNotFound(NotFound):
    def __init__(self, user_id: object) -> None:
        super().__init__("user", user_id)


class PaymentNotFound(NotFound):
    def __init__(self, charge_id: object) -> None:
        super().__init__("payment", charge_id)


class PromoNotFound(NotFound):
    def __init__(self, code: object) -> None:
        super().__init__("promo code", code)


class BroadcastNotFound(NotFound):
    def __init__(self, broadcast_id: object) -> None:
        super().__init__("broadcast", broadcast_id)


class InsufficientBalance(StoreError):
    """The user's balance does not cover the amount."""

    exit_code = 4
    user_key = "error.insufficient_balance"

    def __init__(self, user_id: int, needed: int, available: int) -> None:
        super().__init__(f"user {user_id} has {available} ⭐ available, {needed} ⭐ needed")
        self.user_id = user_id
        self.needed = needed
        self.available = available


class TooManyActiveJobs(StoreError):
    """The user already has the allowed number of generations in progress."""

    exit_code = 4
    user_key = "error.too_many_active_jobs"

    def __init__(self, user_id: int, limit: int) -> None:
        super().__init__(f"user {user_id} already has {limit} generations in progress")
        self.user_id = user_id
        self.limit = limit


class LedgerConflict(StoreError):
    """A money movement contradicts an earlier one (e.g. charging a released job)."""

    exit_code = 4


class InvalidTransition(StoreError):
    """A job is not in a state from which the requested transition is allowed."""

    exit_code = 4

    def __init__(self, job_id: str, current: str, target: str) -> None:
        super().__init__(f"job {job_id} is {current}; it cannot become {target}")
        self.job_id = job_id
        self.current = current
        self.target = target


class RegistryError(TrtError):
    """Problems with the model registry or with parameters checked against it."""


class ModelNotFound(RegistryError, LookupError):
    exit_code = 3
    user_key = "error.model_not_found"

    def __init__(self, model_id: str, suggestions: Sequence[str] = ()) -> None:
        hint = f" (did you mean: {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown model: {model_id}{hint}")
        self.model_id = model_id
        self.suggestions = list(suggestions)


class RegistryInvalid(RegistryError):
    """The registry sources or the built file have problems, each as `file: field: message`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("registry is invalid:\n" + "\n".join(f"  {p}" for p in self.problems))


class InvalidParameters(RegistryError, ValueError):
    """User parameters do not fit the model; each error names the field and what is allowed."""

    exit_code = 2
    user_key = "error.invalid_parameters"

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid parameters:\n" + "\n".join(f"  {e}" for e in self.errors))


class PriceUnknown(RegistryError):
    """The model has no known price (it is hidden); quoting it is refused, never guessed."""

    exit_code = 2
    user_key = "error.price_unknown"

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__(f"model {model_id} has no known price: {reason}")
        self.model_id = model_id
        self.reason = reason


class ModelDisabled(RegistryError):
    """An operator disabled the model (`trt models disable`): no new job starts."""

    exit_code = 4
    user_key = "error.model_disabled"

    def __init__(self, model_id: str, reason: str | None) -> None:
        why = f": {reason}" if reason else ""
        super().__init__(f"model {model_id} is disabled{why}")
        self.model_id = model_id
        self.reason = reason


class PaymentError(TrtError):
    """Stars payments: invoices, top-ups and their refunds."""

    exit_code = 4


class PaymentRefused(PaymentError):
    """An invoice or a payment that does not check out; `reason` is a RefusalReason value."""

    user_key = "payment.refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"payment refused ({reason}): {detail}")
        self.reason = reason


class AlreadyRefunded(PaymentError):
    def __init__(self, charge_id: str) -> None:
        super().__init__(f"payment {charge_id} was refunded already: nothing moved")
        self.charge_id = charge_id


class RefundExceedsBalance(PaymentError):
    """The Stars of a payment were spent; `--force` refunds anyway and records the shortfall."""

    def __init__(self, charge_id: str, needed: int, available: int) -> None:
        super().__init__(
            f"payment {charge_id}: {needed} ⭐ to take back but the balance holds {available} ⭐"
            " (the Stars were spent); --force refunds anyway and records the shortfall"
        )
        self.charge_id = charge_id
        self.needed = needed
        self.available = available


class RefundFailed(PaymentError):
    """Telegram refused refundStarPayment; nothing was reversed."""

    exit_code = 69  # EX_UNAVAILABLE


class PromoError(TrtError):
    """Promo codes: creating and redeeming them."""

    exit_code = 4


class PromoExists(PromoError):
    def __init__(self, code: str) -> None:
        super().__init__(f"promo code {code} exists already")
        self.code = code


class PromoRefused(PromoError):
    """A redemption that is not allowed; `reason` is a PromoRefusal value."""

    user_key = "promo.refused"

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"promo code {code} refused: {reason}")
        self.code = code
        self.reason = reason


class BroadcastError(TrtError):
    """Announcements to every user: creating and cancelling them."""

    exit_code = 2


class BroadcastTextInvalid(BroadcastError, ValueError):
    """A text Telegram would refuse as the bot sends it (HTML parse mode)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"broadcast text: {reason}")
        self.reason = reason


class BroadcastFinished(BroadcastError):
    exit_code = 4

    def __init__(self, broadcast_id: int, state: str) -> None:
        super().__init__(f"broadcast {broadcast_id} is {state} already")
        self.broadcast_id = broadcast_id
        self.state = state


class KieError(TrtError):
    """Base for KIE.ai API errors; the concrete tree lives in trt.kie.errors."""

    exit_code = 10
    user_key = "error.kie"
