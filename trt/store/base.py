"""What callers of the store see: frozen records, query filters, and the store's ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from trt.domain import EventSource, JobId, JobState, LedgerKind, TgUserId


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: TgUserId
    username: str | None
    first_name: str | None
    language: str | None
    balance: int
    held: int
    is_banned: bool
    blocked_bot: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Profile:
    """What Telegram tells about a user, for their record on first contact."""

    username: str | None = None
    first_name: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntryRecord:
    id: int
    user_id: TgUserId
    kind: LedgerKind
    amount: int
    balance_delta: int
    held_delta: int
    job_id: JobId | None
    key: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerResult:
    """The outcome of a money movement; `applied` is False when the key was already used."""

    entry: LedgerEntryRecord
    applied: bool
    balance: int
    held: int


@dataclass(frozen=True, slots=True)
class NewJob:
    user_id: TgUserId
    model_id: str
    api_family: str
    params: dict[str, Any]
    price_stars: int
    kie_credits: float | None = None
    chat_id: int | None = None
    deadline_at: datetime | None = None
    state: JobState = JobState.QUOTED
    request_key: str | None = None
    next_check_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: JobId
    user_id: TgUserId
    model_id: str
    api_family: str
    params: dict[str, Any]
    state: JobState
    price_stars: int
    kie_credits: float | None
    kie_task_id: str | None
    request_key: str | None
    chat_id: int | None
    status_message_id: int | None
    result_urls: tuple[str, ...]
    result_file_id: str | None
    error: str | None
    deadline_at: datetime | None
    next_check_at: datetime | None
    delivery_attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JobEventRecord:
    id: int
    job_id: JobId
    at: datetime
    from_state: JobState | None
    to_state: JobState
    source: EventSource
    detail: str | None


@dataclass(frozen=True, slots=True)
class JobFilter:
    user_id: TgUserId | None = None
    states: tuple[JobState, ...] = ()
    model_id: str | None = None
    since: datetime | None = None
    before_id: JobId | None = None  # keyset cursor: jobs older than this one
    limit: int = 50


@dataclass(frozen=True, slots=True)
class JobChanges:
    """Fields a transition may set together with the new state."""

    kie_task_id: str | None = None
    result_urls: Sequence[str] | None = None
    error: str | None = None
    kie_credits: float | None = None
    next_check_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class UserRepo(Protocol):
    async def ensure(
        self,
        user_id: TgUserId,
        *,
        username: str | None = None,
        first_name: str | None = None,
        language: str | None = None,
    ) -> tuple[UserRecord, bool]:
        """Create the user if new; returns the record and whether it was created."""
        ...

    async def get(self, user_id: TgUserId) -> UserRecord:
        """Raises: UserNotFound."""
        ...


class LedgerRepo(Protocol):
    async def credit(
        self, user_id: TgUserId, amount: int, *, kind: LedgerKind, key: str, reason: str
    ) -> LedgerResult:
        """Add Stars to the balance. Raises: UserNotFound."""
        ...

    async def hold(self, user_id: TgUserId, job_id: JobId, amount: int) -> LedgerResult:
        """Move Stars from balance to held for a job. Raises: InsufficientBalance."""
        ...

    async def charge(self, job_id: JobId) -> LedgerResult:
        """The job's hold becomes spent. Raises: LedgerConflict."""
        ...

    async def release(self, job_id: JobId) -> LedgerResult:
        """The job's hold returns to the balance. Raises: LedgerConflict."""
        ...

    async def refund(self, job_id: JobId, *, reason: str) -> LedgerResult:
        """Return a charged job's Stars to the balance. Raises: LedgerConflict."""
        ...

    async def entries(
        self, *, user_id: TgUserId | None = None, job_id: JobId | None = None, limit: int = 20
    ) -> list[LedgerEntryRecord]: ...


class JobRepo(Protocol):
    async def get(self, job_id: str) -> JobRecord:
        """By job id or KIE task id. Raises: JobNotFound."""
        ...

    async def transition(
        self,
        job_id: JobId,
        target: JobState,
        *,
        source: EventSource,
        detail: str | None = None,
        changes: JobChanges | None = None,
    ) -> JobRecord:
        """Move the job to `target` if its current state allows. Raises: InvalidTransition."""
        ...

    async def find(self, query: JobFilter) -> list[JobRecord]: ...

    async def events(self, job_id: JobId) -> list[JobEventRecord]: ...

    async def count_by_state(self) -> dict[JobState, int]: ...
