"""What support staff ask of the system: a job's story, a user's account, a goodwill grant,
Stars taken back, a ban.

Operator actions (debit, ban, unban) say who made them: `actor` is `cli:<login>` from the
CLI and `tg:<admin id>` from the admin chat.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from trt.core.repos import Store
from trt.domain import LedgerKind, TgUserId, UserOrder
from trt.errors import InsufficientBalance
from trt.logs import log_event
from trt.records import (
    JobEventRecord,
    JobFilter,
    JobRecord,
    LedgerEntryRecord,
    LedgerResult,
    NewAction,
    UserOverview,
    UserRecord,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobDetails:
    job: JobRecord
    events: list[JobEventRecord]
    ledger: list[LedgerEntryRecord]


@dataclass(frozen=True, slots=True)
class UserDetails:
    user: UserRecord
    ledger: list[LedgerEntryRecord]
    jobs: list[JobRecord]


async def job_details(store: Store, key: str) -> JobDetails:
    """A job by its id or KIE task id, with its timeline and money. Raises: JobNotFound."""
    job = await store.jobs.get(key)
    events = await store.jobs.events(job.id)
    ledger = await store.ledger.entries(job_id=job.id, limit=100)
    return JobDetails(job=job, events=events, ledger=list(reversed(ledger)))


async def user_details(store: Store, user_id: TgUserId, *, recent: int = 10) -> UserDetails:
    """Raises: UserNotFound."""
    user = await store.users.get(user_id)
    ledger = await store.ledger.entries(user_id=user_id, limit=recent)
    jobs = await store.jobs.find(JobFilter(user_id=user_id, limit=recent))
    return UserDetails(user=user, ledger=ledger, jobs=jobs)


async def grant(
    store: Store, user_id: TgUserId, amount: int, *, reason: str, op_id: str | None = None
) -> LedgerResult:
    """Credit Stars as a grant; the same `op_id` grants once. Raises: UserNotFound."""
    key = f"grant:{op_id or uuid.uuid4().hex}"
    return await store.ledger.credit(
        user_id, amount, kind=LedgerKind.GRANT, key=key, reason=reason
    )


async def debit(
    store: Store, user_id: TgUserId, amount: int, *, reason: str, actor: str,
    op_id: str | None = None,
) -> LedgerResult:  # fmt: skip
    """Take Stars back, never below zero; the same `op_id` debits once.

    Raises: InsufficientBalance (naming the balance), UserNotFound.
    """
    key = f"debit:{op_id or uuid.uuid4().hex}"
    try:
        result = await store.ledger.debit(
            user_id, amount, key=key, reason=f"{reason} (by {actor})"
        )
    except InsufficientBalance as exc:
        log_event(logger, "debit_refused", user_id=user_id, stars=amount, key=key,
                  balance=exc.available, by=actor, reason=reason)  # fmt: skip
        raise
    if result.applied:
        log_event(logger, "stars_debited", user_id=user_id, stars=amount, key=key,
                  balance=result.balance, by=actor, reason=reason)  # fmt: skip
        detail = {"stars": amount, "key": key, "balance": result.balance}
        await _audit(store, NewAction(actor, "user.debit", str(user_id), reason, detail))
    return result


async def set_ban(
    store: Store, user_id: TgUserId, *, banned: bool, reason: str, actor: str
) -> UserRecord:
    """Ban or unban with the reason, who and when on the user's row. Raises: UserNotFound."""
    user = await store.users.set_banned(user_id, banned, reason=reason, by=actor)
    # Forget that the ban was announced, so a later ban is announced again.
    await store.forms.forget_banned(user_id)
    action = "ban" if banned else "unban"
    log_event(logger, f"user_{action}ned", user_id=user_id, by=actor, reason=reason)
    await _audit(store, NewAction(actor, f"user.{action}", str(user_id), reason))
    return user


async def _audit(store: Store, action: NewAction) -> None:
    """The operator-actions audit row of a debit, ban or unban (`trt audit list`); their
    own log line above already says it, so no `operator_action` line is added."""
    await store.controls.record(action)


async def users_overview(
    store: Store, *, order: UserOrder, limit: int, text: str | None = None
) -> list[UserOverview]:
    return await store.users.overview(order=order, limit=limit, text=text)


async def list_jobs(store: Store, query: JobFilter) -> list[JobRecord]:
    return await store.jobs.find(query)
