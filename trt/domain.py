"""Domain vocabulary shared by every layer: typed ids, KIE families, job states, ledger kinds,
broadcast states.

Pure definitions with no I/O so that catalog/, store/, kie/ and core/ can all use them
without importing each other.
"""

from __future__ import annotations

import os
import time
from enum import StrEnum
from typing import NewType, TypeGuard

JobId = NewType("JobId", str)
ModelId = NewType("ModelId", str)
TgUserId = NewType("TgUserId", int)
KieTaskId = NewType("KieTaskId", str)

# Telegram's ids (updates, users, chats) are stored as signed 64-bit integers.
ID_LIMIT = 2**63
# Star amounts and balances are 32-bit columns (Postgres INTEGER): the largest one.
STARS_LIMIT = 2**31 - 1


def storable_id(value: object) -> TypeGuard[int]:
    """A non-negative integer (not a bool) the database can store as an id."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < ID_LIMIT


class Family(StrEnum):
    """Which KIE API serves a model; each has its own endpoints and record shape.

    The registry may name any of these; `trt.kie.base.FAMILIES` says which trt can call.
    """

    MARKET = "market"  # /api/v1/jobs/createTask + recordInfo
    VEO = "veo"  # /api/v1/veo/generate + record-info (+ get-1080p-video)
    SUNO = "suno"  # /api/v1/generate + generate/record-info
    RUNWAY = "runway"
    GPT4O_IMAGE = "gpt4o-image"
    FLUX_KONTEXT = "flux-kontext"


class JobState(StrEnum):
    QUOTED = "quoted"
    HELD = "held"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DELIVERED = "delivered"
    FAILED = "failed"
    RELEASED = "released"


# Allowed transitions of DESIGN.md's pipeline. `submitting` sits between the hold and
# KIE's createTask so that a crash between the call and recording the task id is visible.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUOTED: frozenset({JobState.HELD, JobState.FAILED}),
    JobState.HELD: frozenset({JobState.SUBMITTING, JobState.FAILED}),
    JobState.SUBMITTING: frozenset({JobState.SUBMITTED, JobState.FAILED}),
    JobState.SUBMITTED: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED}),
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED}),
    JobState.SUCCEEDED: frozenset({JobState.DELIVERED}),
    JobState.DELIVERED: frozenset(),
    JobState.FAILED: frozenset({JobState.RELEASED}),
    JobState.RELEASED: frozenset(),
}


def sources_of(target: JobState) -> frozenset[JobState]:
    """The states from which `target` may be reached."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


class EventSource(StrEnum):
    USER = "user"
    CALLBACK = "callback"
    POLL = "poll"
    RECONCILER = "reconciler"
    CLI = "cli"
    SYSTEM = "system"


class CreditSource(StrEnum):
    """Where a succeeded job's real KIE credits came from; NONE: KIE gave no figure."""

    CALLBACK = "callback"  # `consumeCredits` in KIE's completion callback
    POLL = "poll"  # a task record (recordInfo) that carried the figure
    NONE = "none"  # unmeasured: neither said; the quote is NOT taken as the real cost


class LedgerKind(StrEnum):
    TOPUP = "topup"
    GRANT = "grant"
    BONUS = "bonus"
    HOLD = "hold"
    CHARGE = "charge"
    RELEASE = "release"
    REFUND = "refund"
    TOPUP_REFUND = "topup_refund"  # a refunded Stars payment taken back off the balance
    BONUS_REVOKED = "bonus_revoked"  # a referral bonus taken back: its top-up was refunded
    DEBIT = "debit"  # Stars taken back by support (`trt users debit`), never below zero


class UserOrder(StrEnum):
    """How `trt users list` sorts: most Stars spent, or newest first."""

    SPENT = "spent"
    JOINED = "joined"


class PaymentStatus(StrEnum):
    PAID = "paid"  # credited to the balance
    REFUNDED = "refunded"  # Stars returned by Telegram; the credit reversed
    REJECTED = "rejected"  # paid, but the invoice did not check out: never credited


class RefusalReason(StrEnum):
    """Why an invoice or a Stars payment is refused; each has a user-facing text."""

    FORGED = "forged"  # bad signature or unreadable payload
    WRONG_USER = "wrong_user"
    AMOUNT = "amount"
    CURRENCY = "currency"
    BANNED = "banned"
    PACKAGE_GONE = "package_gone"
    REPLAYED = "replayed"


class PromoRefusal(StrEnum):
    UNKNOWN = "unknown"
    DISABLED = "disabled"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    ALREADY_USED = "already_used"
    NOT_NEW = "not_new"


class BroadcastState(StrEnum):
    QUEUED = "queued"  # stored; the server's leader has not started it
    SENDING = "sending"
    DONE = "done"  # every recipient has an outcome; the report went out
    CANCELLED = "cancelled"  # stopped by an operator; recipients not reached stay pending


class RecipientState(StrEnum):
    PENDING = "pending"
    # Marked just before the send: a crash here leaves it so, and it becomes UNKNOWN rather
    # than being sent again (Telegram has no idempotency key).
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot or the account is deactivated
    FAILED = "failed"  # refused for another reason (400 chat not found, …)
    SKIPPED = "skipped"  # opted out, blocked before, or banned by the time its turn came
    UNKNOWN = "unknown"  # in flight at a crash or a network error: maybe delivered


CREDIT_KINDS = frozenset({LedgerKind.TOPUP, LedgerKind.GRANT, LedgerKind.BONUS})

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_job_id() -> JobId:
    """A ULID: 26 Crockford base32 characters that sort by creation time."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return JobId("".join(reversed(chars)))
