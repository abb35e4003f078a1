"""What support staff ask of the system: a job's story, a user's account, a goodwill grant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from trt.core.repos import Store
from trt.domain import LedgerKind, TgUserId
from trt.records import (
    JobEventRecord,
    JobFilter,
    JobRecord,
    LedgerEntryRecord,
    LedgerResult,
    UserRecord,
)


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


async def list_jobs(store: Store, query: JobFilter) -> list[JobRecord]:
    return await store.jobs.find(query)
