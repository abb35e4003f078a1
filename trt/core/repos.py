"""The store as core needs it: one Protocol per repository, and `Store` bundling them.

trt.store's SQL repositories implement these (runtime hands core a `SqlStore` as a
`Store`, and mypy checks that it fits); the bot, the server and the CLI reach the
database only through them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from trt.domain import (
    CreditSource,
    EventSource,
    JobId,
    JobState,
    LedgerKind,
    RecipientState,
    TgUserId,
    UserOrder,
)  # fmt: skip
from trt.records import (
    Arrival,
    BroadcastRecord,
    Claim,
    Confirm,
    ControlsState,
    FormRow,
    FreeGrant,
    JobChanges,
    JobEventRecord,
    JobFilter,
    JobRecord,
    LedgerEntryRecord,
    LedgerResult,
    Maintenance,
    MeasuredJob,
    ModelOverride,
    MoneyFigures,
    NewAction,
    NewBroadcast,
    NewJob,
    NewPayment,
    OperatorAction,
    Outcome,
    PaymentRecord,
    PaymentResult,
    Pending,
    Profile,
    PromoRecord,
    Recipient,
    Redemption,
    ReferralStats,
    Summary,
    UserOverview,
    UserRecord,
    Visit,
)


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

    async def set_language(self, user_id: TgUserId, language: str) -> UserRecord:
        """Raises: UserNotFound."""
        ...

    async def set_banned(
        self, user_id: TgUserId, banned: bool, *, reason: str | None = None, by: str | None = None
    ) -> UserRecord:
        """Ban or unban, recording why, who and when. Raises: UserNotFound."""
        ...

    async def overview(
        self, *, order: UserOrder, limit: int, text: str | None = None
    ) -> list[UserOverview]:
        """Users with what they spent, sorted by `order`; with `text`, only those whose id
        is it or whose username or first name contains it, in any case."""
        ...

    async def set_blocked_bot(self, user_id: TgUserId, blocked: bool) -> UserRecord:
        """Whether the user blocked the bot (Telegram answers 403). Raises: UserNotFound."""
        ...

    async def set_broadcast_opt_out(self, user_id: TgUserId, opted_out: bool) -> UserRecord:
        """Whether the user declined announcements (/settings). Raises: UserNotFound."""
        ...

    async def count(self) -> int: ...


class LedgerRepo(Protocol):
    async def credit(
        self, user_id: TgUserId, amount: int, *, kind: LedgerKind, key: str, reason: str
    ) -> LedgerResult: ...

    async def debit(
        self, user_id: TgUserId, amount: int, *, key: str, reason: str
    ) -> LedgerResult:
        """Take Stars off the balance, never below zero; a used key moves nothing.

        Raises: InsufficientBalance (naming the balance), UserNotFound.
        """
        ...

    async def hold(self, user_id: TgUserId, job_id: JobId, amount: int) -> LedgerResult: ...

    async def charge(self, job_id: JobId) -> LedgerResult: ...

    async def release(self, job_id: JobId) -> LedgerResult: ...

    async def refund(self, job_id: JobId, *, reason: str) -> LedgerResult: ...

    async def entries(
        self, *, user_id: TgUserId | None = None, job_id: JobId | None = None, limit: int = 20
    ) -> list[LedgerEntryRecord]: ...

    async def free_used(self, user_id: TgUserId, day: date) -> int:
        """Free generations the user had on `day` (UTC)."""
        ...

    async def invariant_violations(self) -> list[str]:
        """Users whose balance/held disagree with the sum of their ledger rows or are
        negative (DESIGN.md's invariant), one line each, by user id.
        """
        ...


class JobRepo(Protocol):
    async def get(self, job_id: str) -> JobRecord: ...

    async def transition(
        self,
        job_id: JobId,
        target: JobState,
        *,
        source: EventSource,
        detail: str | None = None,
        changes: JobChanges | None = None,
    ) -> JobRecord: ...

    async def find(self, query: JobFilter) -> list[JobRecord]: ...

    def export(self, *, since: datetime | None = None) -> AsyncIterator[JobRecord]:
        """Every job (created since `since`), oldest first, read in batches as consumed."""
        ...

    async def events(self, job_id: JobId) -> list[JobEventRecord]: ...

    async def set_status_message(self, job_id: str, message_id: int) -> None:
        """Remember the chat message that shows the job's progress, so edits can target it."""
        ...

    async def count_by_state(self) -> dict[JobState, int]: ...


class PipelineRepo(Protocol):
    async def open_job(
        self, job: NewJob, *, max_active: int, free: FreeGrant | None = None
    ) -> tuple[JobRecord, bool]:
        """Create the job and hold its price; a repeated request key returns the first job.

        `free`: when the user has a free generation left on that day, credit the price as
        that day's next free one first, in the same transaction (so a replayed request can
        neither take a second free one nor lose the first).

        Raises: InsufficientBalance, TooManyActiveJobs, UserNotFound.
        """
        ...

    async def succeed(
        self,
        job_id: JobId,
        *,
        result_urls: Sequence[str],
        real_credits: float | None,
        credits_source: CreditSource,
        source: EventSource,
        next_check_at: datetime,
    ) -> JobRecord:
        """The hold becomes a charge, the results and KIE's real credits (None with
        `CreditSource.NONE`) are stored; the quote stays. Raises: InvalidTransition."""
        ...

    async def fail(self, job_id: JobId, *, reason: str, source: EventSource) -> JobRecord:
        """Failed, the hold released, and released recorded, at once. Raises: InvalidTransition."""
        ...

    async def refund(self, job_id: JobId, *, reason: str, source: EventSource) -> bool:
        """Return a charged job's Stars; False when it was refunded before.

        Raises: LedgerConflict when the job was never charged.
        """
        ...

    async def refund_part(
        self, job_id: JobId, amount: int, *, reason: str, source: EventSource
    ) -> bool:
        """Return `amount` of a charged job's Stars, once per job; False when done before.

        Raises: LedgerConflict (never charged, or more than the charge).
        """
        ...

    async def claim_due(
        self, states: Sequence[JobState], *, now: datetime, lease_until: datetime, limit: int
    ) -> list[JobRecord]:
        """Jobs in `states` whose check is due, leased until `lease_until` so one worker
        handles each. The lease is a guarded UPDATE (still due?), so of two claimers only
        one gets a job; finding nothing due takes no write lock.
        """
        ...

    async def due(
        self, states: Sequence[JobState], *, now: datetime, limit: int
    ) -> list[JobRecord]:
        """Jobs in `states` whose check is due, without claiming them (for a dry run)."""
        ...

    async def schedule(
        self, job_id: JobId, *, next_check_at: datetime | None, delivery_attempt: bool = False
    ) -> None:
        """Set when the job is next looked at (and count a failed delivery)."""
        ...


class InboxRepo(Protocol):
    async def record_many(
        self, arrivals: Sequence[Arrival], *, claim: Claim | None = None
    ) -> list[Outcome]:
        """Store a batch; for each arrival in order: its row when new, None for a duplicate,
        or the error that kept it out (the others are stored all the same).

        With `claim`, the new arrivals marked `start` are claimed in the same transaction
        (as `claim` would, per-sender order included); their rows carry the payload.
        Raises: DatabaseUnavailable (nothing was stored).
        """
        ...

    async def claim(self, seq: int, *, owner: str, lease: timedelta) -> dict[str, Any] | None:
        """The payload if `owner` may process the update now, else None: it is processed,
        another worker's lease holds it, or an earlier update of its sender is waiting.
        """
        ...

    async def renew(self, owner: str, *, lease: timedelta) -> int:
        """Extend every unprocessed claim of `owner`; how many it holds."""
        ...

    async def done(self, seq: int, *, owner: str) -> bool:
        """Mark processed; False when `owner` no longer held it (its lease had lapsed)."""
        ...

    async def stranded(self, *, grace: timedelta, limit: int = 200) -> list[Pending]:
        """Unprocessed updates nobody holds: unclaimed for `grace` since they arrived (the
        instance that stored them died, or is too busy), or with a lapsed lease.
        """
        ...

    async def prune(self) -> int:
        """Delete processed updates older than the dedupe window; how many."""
        ...


class PaymentRepo(Protocol):
    async def record(self, new: NewPayment, *, referral_bonus: int = 0) -> PaymentResult:
        """Record a payment and, when it is PAID, credit amount + bonus (and the referral
        bonuses of a first top-up) in the same transaction. Raises: UserNotFound.
        """
        ...

    async def reverse(
        self, charge_id: str, *, reason: str, force: bool, confirm: Confirm | None = None
    ) -> PaymentResult:
        """Mark a payment refunded and take its Stars back off the balance.

        Without `force` the Stars must still be on the balance; with it, what is there is
        taken (never below zero) and the rest is recorded as the shortfall.
        Raises: PaymentNotFound, AlreadyRefunded, RefundExceedsBalance, and whatever
        `confirm` raises (then nothing is changed).
        """
        ...

    async def get(self, charge_id: str) -> PaymentRecord:
        """Raises: PaymentNotFound."""
        ...

    async def find(
        self, *, user_id: TgUserId | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[PaymentRecord]:
        """Newest first."""
        ...

    def export(self, *, since: datetime | None = None) -> AsyncIterator[PaymentRecord]:
        """Every payment (made since `since`), oldest first, read in batches as consumed."""
        ...

    async def payload_used(self, payload: str) -> bool:
        """Whether an invoice with this payload was paid already (a replay)."""
        ...


class PromoRepo(Protocol):
    async def create(
        self, code: str, stars: int, *, uses: int | None = None,
        expires_at: datetime | None = None, new_users_only: bool = False,
    ) -> PromoRecord:  # fmt: skip
        """Raises: PromoExists."""
        ...

    async def get(self, code: str) -> PromoRecord:
        """Raises: PromoNotFound."""
        ...

    async def find(self) -> list[PromoRecord]:
        """Every code, newest first."""
        ...

    async def disable(self, code: str) -> PromoRecord:
        """Raises: PromoNotFound."""
        ...

    async def redeem(self, code: str, user_id: TgUserId) -> Redemption:
        """Credit the code's Stars to the user once. Raises: PromoRefused, UserNotFound."""
        ...


class ReferralRepo(Protocol):
    async def bind(self, referred: TgUserId, referrer: TgUserId) -> bool:
        """Bind `referred` to `referrer` unless already bound; False for a self-referral,
        an unknown referrer or an existing binding.
        """
        ...

    async def referrer_of(self, referred: TgUserId) -> TgUserId | None: ...

    async def stats(self, referrer: TgUserId) -> ReferralStats: ...


class VisitRepo(Protocol):
    async def arrive(
        self, user_id: TgUserId, profile: Profile, *, form_key: str, day: date
    ) -> Visit:
        """The user (created if new, with their free generations on `day`) and their form."""
        ...


class FormRepo(Protocol):
    async def read(self, key: str) -> FormRow:
        """The row under `key`; an empty one when there is none."""
        ...

    async def set_state(
        self, key: str, state: str | None, *, exists: bool | None = None
    ) -> None: ...

    async def set_data(
        self, key: str, data: dict[str, Any], *, exists: bool | None = None
    ) -> None: ...

    async def save(self, key: str, row: FormRow, *, exists: bool | None = None) -> None: ...

    async def told_banned(self, user_id: int) -> bool: ...

    async def tell_banned(self, user_id: int) -> None: ...

    async def forget_banned(self, user_id: int) -> None:
        """Unbanned: a later ban is told again."""
        ...


class ControlsRepo(Protocol):
    """Operator controls (model overrides, maintenance) and the audit log of every
    operator action; each change is written with its audit row in one transaction."""

    async def state(self) -> ControlsState: ...

    async def set_disabled(
        self, model_id: str, disabled: bool, *, reason: str | None, action: NewAction
    ) -> ModelOverride: ...

    async def set_markup(
        self, model_id: str, markup: str | None, *, action: NewAction
    ) -> ModelOverride: ...

    async def set_maintenance(
        self, on: bool, *, message: str | None, action: NewAction
    ) -> Maintenance: ...

    async def record(self, action: NewAction) -> OperatorAction:
        """Log an action another feature took (a ban, a debit, a broadcast…)."""
        ...

    async def actions(self, *, limit: int) -> list[OperatorAction]:
        """Newest first."""


class CostRepo(Protocol):
    """What KIE really charged per job, and the cost guard's episodes (one row a model,
    shared by every instance)."""

    async def record_late(self, job_id: JobId, credits: float) -> bool:
        """KIE's callback figure for a succeeded job settled without one (a poll came
        first); False when the job has a figure already or did not succeed."""
        ...

    async def window(self, model_id: str, *, jobs_back: int) -> list[MeasuredJob]:
        """The model's last `jobs_back` succeeded jobs with real credits, newest first."""
        ...

    async def trip(self, model_id: str, *, detail: str, at: datetime) -> bool:
        """Open the model's episode; False when it is open already."""
        ...

    async def recover(self, model_id: str, *, at: datetime) -> bool:
        """Close the model's open episode; False when none was open."""
        ...

    async def tripped(self) -> dict[str, str]:
        """Models whose episode is open, with what tripped them."""


class BroadcastRepo(Protocol):
    async def audience(self, language: str | None) -> int:
        """Users a broadcast in `language` (None: any) would reach now."""
        ...

    async def create(self, new: NewBroadcast, *, now: datetime) -> BroadcastRecord:
        """Queue it, every user of its language a pending recipient."""
        ...

    async def get(self, broadcast_id: int) -> BroadcastRecord:
        """Raises: BroadcastNotFound."""
        ...

    async def find(self, *, limit: int = 20) -> list[BroadcastRecord]:
        """Newest first."""
        ...

    async def cancel(self, broadcast_id: int, *, by: str, now: datetime) -> BroadcastRecord:
        """Raises: BroadcastNotFound, BroadcastFinished."""
        ...

    async def next_active(self) -> BroadcastRecord | None:
        """The oldest broadcast queued or being sent."""
        ...

    async def start(self, broadcast_id: int, *, now: datetime) -> bool:
        """Queued → sending; False when it was not queued."""
        ...

    async def interrupted(self, *, now: datetime) -> int:
        """Recipients left in flight by a stopped sender become unknown; how many."""
        ...

    async def pending(
        self, broadcast_id: int, *, after: int = -1, limit: int = 200
    ) -> list[Recipient]:
        """The next pending recipients past user id `after`."""
        ...

    async def claim(self, broadcast_id: int, user_id: TgUserId, *, now: datetime) -> bool:
        """Pending → sending (committed) while the broadcast is sending; False otherwise."""
        ...

    async def settle(
        self,
        broadcast_id: int,
        user_id: TgUserId,
        outcome: RecipientState,
        *,
        now: datetime,
        error: str | None = None,
    ) -> bool:
        """Record a recipient's outcome; False when nothing changed."""
        ...

    async def finish(self, broadcast_id: int, *, now: datetime) -> BroadcastRecord | None:
        """Sending → done when nobody is left; the record when this call finished it."""
        ...


class Store(Protocol):
    """Every repository over one database."""

    @property
    def users(self) -> UserRepo: ...
    @property
    def ledger(self) -> LedgerRepo: ...
    @property
    def jobs(self) -> JobRepo: ...
    @property
    def pipeline(self) -> PipelineRepo: ...
    @property
    def inbox(self) -> InboxRepo: ...
    @property
    def payments(self) -> PaymentRepo: ...
    @property
    def promo(self) -> PromoRepo: ...
    @property
    def referrals(self) -> ReferralRepo: ...
    @property
    def visits(self) -> VisitRepo: ...
    @property
    def forms(self) -> FormRepo: ...
    @property
    def controls(self) -> ControlsRepo: ...
    @property
    def costs(self) -> CostRepo: ...
    @property
    def broadcasts(self) -> BroadcastRepo: ...

    async def check_schema(self) -> None:
        """Raises: SchemaNotMigrated, DatabaseUnavailable."""
        ...

    async def summary(self, since: datetime) -> Summary:
        """Totals since `since` for the admins' summary."""
        ...

    async def money_figures(self, since: datetime) -> MoneyFigures: ...
