"""Records every layer passes around: frozen dataclasses the store returns and core, the bot,
the server and the CLI read. Plain data: no behaviour beyond a few derived properties."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from trt.domain import (
    BroadcastState,
    CreditSource,
    EventSource,
    JobId,
    JobState,
    LedgerKind,
    PaymentStatus,
    RecipientState,
    TgUserId,
)


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
    # Free generations on a day, when read with the record (the visit read counts today's,
    # so a screen that shows what is left needs no read of its own).
    free_used: FreeUse | None = None
    # Declined announcements in /settings: broadcasts skip them.
    broadcast_opt_out: bool = False
    # The last ban or unban: why, who (`cli:<login>`, `tg:<admin id>`) and when.
    ban_reason: str | None = None
    ban_changed_by: str | None = None
    ban_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserOverview:
    """A user as `trt users list/search` shows them: who, money, and how they stand."""

    id: TgUserId
    username: str | None
    first_name: str | None
    language: str | None
    balance: int
    held: int
    # Stars charged for generations, less what support refunded of them.
    spent: int
    is_banned: bool
    blocked_bot: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FreeUse:
    day: date
    count: int


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
    # `kie_credits` is the quote; these are what KIE reported it consumed (cost guard).
    real_credits: float | None = None
    credits_source: CreditSource | None = None  # None until the job succeeds


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


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    telegram_payment_charge_id: str
    provider_payment_charge_id: str | None
    user_id: TgUserId
    amount: int
    bonus: int
    currency: str
    payload: str
    status: PaymentStatus
    reversed_stars: int  # taken back off the balance by a refund
    shortfall: int  # what a forced refund could not take back (spent Stars)
    note: str | None
    created_at: datetime
    refunded_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewPayment:
    charge_id: str
    provider_charge_id: str | None
    user_id: TgUserId
    amount: int
    currency: str
    payload: str
    bonus: int = 0
    status: PaymentStatus = PaymentStatus.PAID
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment: PaymentRecord
    applied: bool  # False: this charge was recorded before, nothing moved now
    balance: int
    referral_bonus: int = 0  # Stars each side got for this first top-up of a referred user

    @property
    def referral_rewarded(self) -> bool:
        return self.referral_bonus > 0


@dataclass(frozen=True, slots=True)
class PromoRecord:
    code: str
    stars: int
    uses: int | None  # None: unlimited
    used: int
    expires_at: datetime | None
    new_users_only: bool
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Redemption:
    code: str
    stars: int
    balance: int


@dataclass(frozen=True, slots=True)
class ReferralStats:
    joined: int
    paid: int  # referred users whose first top-up went through


@dataclass(frozen=True, slots=True)
class FormRow:
    """One `fsm_state` row: a form's state and data."""

    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.state is None and not self.data


@dataclass(frozen=True, slots=True)
class RefundNotice:
    """What a user is told after support refunded a job (`job`) or a payment (`charge_id`)."""

    user_id: TgUserId
    stars: int  # given back for the job, or returned by Telegram for the payment
    balance: int  # after the refund
    job: JobRecord | None = None
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class CreditsGiven:
    """Stars put on balances since a time, by where they came from: only `paid` was paid
    for; the rest was given (and is a cost, not income)."""

    paid: int  # Stars top-ups, less those refunded
    grants: int  # by admins and support, less what support took back (`trt users debit`)
    welcome: int
    referral: int  # less bonuses taken back with their refunded top-up
    promo: int
    package: int  # top-up package bonuses
    free: int  # free generations
    refunds: int  # generations refunded by support

    @property
    def bonuses(self) -> int:
        return self.welcome + self.referral + self.promo + self.package + self.free

    @property
    def given(self) -> int:
        return self.grants + self.bonuses + self.refunds


@dataclass(frozen=True, slots=True)
class Summary:
    users: int
    jobs_by_state: dict[JobState, int]
    credits: CreditsGiven
    stars_out: int  # charges minus refunds since the start


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model_id: str
    jobs: int  # charged generations
    stars: int  # charged minus refunded
    kie_credits: float  # quoted for the charged generations (refunded ones cost KIE too)
    measured: int = 0  # of `jobs`, those KIE reported real credits for
    measured_stars: int = 0  # `stars` of the measured jobs
    measured_quote: float = 0.0  # quoted credits of the measured jobs
    real_credits: float = 0.0  # what KIE reported for the measured jobs


@dataclass(frozen=True, slots=True)
class MeasuredJob:
    """A succeeded job whose real KIE credits are known: one point of the cost guard."""

    job_id: JobId
    price_stars: int
    quoted_credits: float
    real_credits: float


@dataclass(frozen=True, slots=True)
class MoneyFigures:
    payments: int
    received: int  # Stars paid in by every recorded payment
    refunded: int  # Stars Telegram returned to payers
    models: list[ModelUsage]
    credits: CreditsGiven


@dataclass(frozen=True, slots=True)
class Visit:
    user: UserRecord
    created: bool  # this update was the user's first contact
    form: FormRow | None  # the FSM row under `form_key`; None when there is none
    form_key: str  # the key `form` was read under


@dataclass(frozen=True, slots=True)
class VisitQuery:
    """What an update's handlers read about its sender (a `Visit`): their record, created
    on first contact and renamed when Telegram names them differently, their form under
    `form_key`, and their free generations on `day`."""

    user_id: TgUserId
    profile: Profile
    form_key: str
    day: date


@dataclass(frozen=True, slots=True)
class Arrival:
    update_id: int
    payload: dict[str, Any]
    user_id: int | None = None  # who sent it, when someone did: their updates run in order
    start: bool = False  # a worker of this process starts it at once: claim it when stored
    # With `start`: read the sender's visit in the same transaction, once the claim holds.
    visit: VisitQuery | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Who claims the updates a batch starts at once, and for how long."""

    owner: str
    lease: timedelta


@dataclass(frozen=True, slots=True)
class Pending:
    """A stored, unprocessed update, as a worker needs to know it before claiming it."""

    seq: int
    update_id: int
    user_id: int | None
    # Set when the update was claimed for this process as it was stored: no claim to make.
    payload: dict[str, Any] | None = None
    visit: Visit | None = None  # read with that claim, when its arrival asked


@dataclass(frozen=True, slots=True)
class FreeGrant:
    """A job may be a free one: `daily` free generations a user may have on `day`."""

    day: date
    daily: int


# What became of one arriving update: stored (to be run), None (a duplicate), or refused.
Outcome = Pending | BaseException | None

# Asked before a payment refund goes through (the CLI's "are you sure").
Confirm = Callable[[PaymentRecord], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class NewAction:
    """An operator's action for the audit log: who (`cli:<os user>`, `tg:<admin id>`), what,
    on what, and why."""

    actor: str
    action: str
    subject: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OperatorAction:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    reason: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelOverride:
    """What the operators changed about one model: sold or not, and its own markup (a
    decimal string, so 1.8 stays 1.8; None: the global PRICE_MARKUP)."""

    model_id: str
    disabled: bool
    reason: str | None
    markup: str | None
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class Maintenance:
    on: bool = False
    message: str | None = None
    since: datetime | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class ControlsState:
    """Every operator control at one moment, as each instance keeps it."""

    overrides: dict[str, ModelOverride] = field(default_factory=dict)
    maintenance: Maintenance = field(default_factory=Maintenance)


@dataclass(frozen=True, slots=True)
class NewBroadcast:
    text: str  # HTML, as the bot sends it, checked against Telegram's limits
    created_by: str  # who asked: `tg:<admin id>` or `cli:<login>`
    language: str | None = None  # only users with this language; None: everyone
    report_chat_id: int | None = None  # where the report goes; None: every admin


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    id: int
    text: str
    language: str | None
    state: BroadcastState
    created_by: str
    report_chat_id: int | None
    total: int  # recipients chosen when it was queued
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_by: str | None  # who stopped it (`tg:<admin id>` or `cli:<login>`)
    # Recipients by state, read with the record.
    counts: dict[RecipientState, int] = field(default_factory=dict)

    def count(self, state: RecipientState) -> int:
        return self.counts.get(state, 0)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One user's turn in a broadcast, with what decides whether they get it now."""

    user_id: TgUserId
    opted_out: bool
    blocked_bot: bool
    banned: bool
