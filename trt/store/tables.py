"""SQLModel tables. They stay inside trt.store; callers get the frozen records of base.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from trt.store.types import BigIntPK, UTCDateTime

# Named constraints let Alembic alter them later on both backends.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _utc(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_nonnegative"),
        CheckConstraint("held >= 0", name="held_nonnegative"),
    )

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    username: str | None = Field(default=None, sa_column=Column(String(64)))
    first_name: str | None = Field(default=None, sa_column=Column(String(128)))
    language: str | None = Field(default=None, sa_column=Column(String(8)))
    balance: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    held: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    is_banned: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    blocked_bot: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    broadcast_opt_out: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # Username and first name casefolded in Python, for case-insensitive search on both
    # backends (SQLite's lower() knows only ASCII).
    name_key: str | None = Field(default=None, sa_column=Column(String(200)))
    # The last ban or unban: why, who (`cli:<login>`, `tg:<admin id>`) and when.
    ban_reason: str | None = Field(default=None, sa_column=Column(Text))
    ban_changed_by: str | None = Field(default=None, sa_column=Column(String(64)))
    ban_changed_at: datetime | None = _utc(nullable=True)


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_user_id_id", "user_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    user_id: int = Field(sa_column=Column(BigInteger, ForeignKey("users.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    amount: int = Field(sa_column=Column(Integer, nullable=False))
    balance_delta: int = Field(sa_column=Column(Integer, nullable=False))
    held_delta: int = Field(sa_column=Column(Integer, nullable=False))
    job_id: str | None = Field(default=None, sa_column=Column(String(26), index=True))
    key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _utc()


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_id_id", "user_id", "id"),
        Index("ix_jobs_state_id", "state", "id"),
        Index("ix_jobs_model_id_id", "model_id", "id"),
    )

    id: str = Field(sa_column=Column(String(26), primary_key=True))
    user_id: int = Field(sa_column=Column(BigInteger, ForeignKey("users.id"), nullable=False))
    model_id: str = Field(sa_column=Column(String(128), nullable=False))
    api_family: str = Field(sa_column=Column(String(32), nullable=False))
    params: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    price_stars: int = Field(sa_column=Column(Integer, nullable=False))
    kie_credits: float | None = Field(default=None, sa_column=Column(Float))
    kie_task_id: str | None = Field(default=None, sa_column=Column(String(128), unique=True))
    # The client's idempotency key for "Generate": a second press finds the first job.
    request_key: str | None = Field(default=None, sa_column=Column(String(128), unique=True))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    status_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    result_urls: list[str] | None = Field(default=None, sa_column=Column(JSON))
    result_file_id: str | None = Field(default=None, sa_column=Column(String(256)))
    error: str | None = Field(default=None, sa_column=Column(Text))
    deadline_at: datetime | None = _utc(nullable=True)
    next_check_at: datetime | None = _utc(nullable=True, index=True)
    delivery_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    # `kie_credits` keeps the quote; KIE's own figure goes beside it (0008).
    real_credits: float | None = Field(default=None, sa_column=Column(Float))
    credits_source: str | None = Field(default=None, sa_column=Column(String(16)))


class CostGuardState(SQLModel, table=True):
    """One row per model the cost guard has judged: whether its episode is open, so the
    admins hear of it once (across instances), and again only after it recovered."""

    __tablename__ = "cost_guard"

    model_id: str = Field(sa_column=Column(String(128), primary_key=True))
    tripped: bool = Field(sa_column=Column(Boolean, nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text))
    tripped_at: datetime | None = _utc(nullable=True)
    recovered_at: datetime | None = _utc(nullable=True)


class JobEvent(SQLModel, table=True):
    __tablename__ = "job_events"
    __table_args__ = (Index("ix_job_events_job_id_id", "job_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    job_id: str = Field(sa_column=Column(String(26), ForeignKey("jobs.id"), nullable=False))
    at: datetime = _utc()
    from_state: str | None = Field(default=None, sa_column=Column(String(16)))
    to_state: str = Field(sa_column=Column(String(16), nullable=False))
    source: str = Field(sa_column=Column(String(16), nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text))


class Payment(SQLModel, table=True):
    __tablename__ = "payments"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    telegram_payment_charge_id: str = Field(
        sa_column=Column(String(256), nullable=False, unique=True)
    )
    provider_payment_charge_id: str | None = Field(default=None, sa_column=Column(String(256)))
    user_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("users.id"), nullable=False, index=True)
    )
    amount: int = Field(sa_column=Column(Integer, nullable=False))
    currency: str = Field(sa_column=Column(String(8), nullable=False))
    payload: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = _utc()
    refunded_at: datetime | None = _utc(nullable=True)
    # Stars credited on top of the amount (the package's bonus percentage).
    bonus: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # On refund: what came off the balance, and what could not (spent Stars, under --force).
    reversed_stars: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    shortfall: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    note: str | None = Field(default=None, sa_column=Column(Text))


class PromoCode(SQLModel, table=True):
    __tablename__ = "promo_codes"
    __table_args__ = (
        CheckConstraint("used >= 0 AND (uses IS NULL OR used <= uses)", name="used_in_range"),
    )

    code: str = Field(sa_column=Column(String(32), primary_key=True))
    stars: int = Field(sa_column=Column(Integer, nullable=False))
    uses: int | None = Field(default=None, sa_column=Column(Integer))  # None: unlimited
    used: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    expires_at: datetime | None = _utc(nullable=True)
    new_users_only: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    disabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = _utc()


class PromoRedemption(SQLModel, table=True):
    __tablename__ = "promo_redemptions"
    __table_args__ = (UniqueConstraint("code", "user_id", name="uq_promo_redemptions_code_user"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    code: str = Field(sa_column=Column(String(32), ForeignKey("promo_codes.code"), nullable=False))
    user_id: int = Field(sa_column=Column(BigInteger, ForeignKey("users.id"), nullable=False))
    created_at: datetime = _utc()


class Referral(SQLModel, table=True):
    """Who brought whom: one row per referred user, bound once."""

    __tablename__ = "referrals"
    __table_args__ = (CheckConstraint("referred_id <> referrer_id", name="not_self"),)

    referred_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False)
    )
    referrer_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("users.id"), nullable=False, index=True)
    )
    created_at: datetime = _utc()
    rewarded_at: datetime | None = _utc(nullable=True)
    # The top-up whose payment paid the bonuses: refunding it takes them back.
    reward_charge_id: str | None = Field(default=None, sa_column=Column(String(200)))


class TelegramUpdate(SQLModel, table=True):
    """The inbox: an update is recorded here before Telegram gets its 200.

    An update is the pair (update_id, digest of its payload): Telegram restarts its ids at
    random after a week without updates, and an emulator restarts them at 1, so an id alone
    does not say "seen before"; a retried delivery repeats both. A worker claims a row
    (`claimed_by`, a token of that attempt) until `claimed_until`, renewing it while it runs.
    """

    __tablename__ = "telegram_updates"
    __table_args__ = (
        Index("uq_telegram_updates_update_id_digest", "update_id", "digest", unique=True),
        Index("ix_telegram_updates_user_id_update_id", "user_id", "update_id"),
    )

    seq: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    update_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = _utc(index=True)
    claimed_by: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    claimed_until: datetime | None = _utc(nullable=True)
    processed_at: datetime | None = _utc(nullable=True, index=True)


class FsmState(SQLModel, table=True):
    """aiogram FSM state and data, keyed by the storage key, so forms survive restarts."""

    __tablename__ = "fsm_state"

    key: str = Field(sa_column=Column(String(256), primary_key=True))
    state: str | None = Field(default=None, sa_column=Column(String(256)))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()


class OperatorActionRow(SQLModel, table=True):
    """The audit log: who changed what the bot sells or how it runs, when and why."""

    __tablename__ = "operator_actions"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    at: datetime = _utc(index=True)
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(48), nullable=False))
    subject: str | None = Field(default=None, sa_column=Column(String(128)))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    detail: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class ModelOverrideRow(SQLModel, table=True):
    """An operator's override of one registry model; no row: as the registry says."""

    __tablename__ = "model_overrides"

    model_id: str = Field(sa_column=Column(String(128), primary_key=True))
    disabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))
    # A decimal string (SQLite has no exact decimal type); NULL: the global PRICE_MARKUP.
    markup: str | None = Field(default=None, sa_column=Column(String(16)))
    updated_at: datetime = _utc()
    updated_by: str = Field(sa_column=Column(String(64), nullable=False))


class MaintenanceRow(SQLModel, table=True):
    """Maintenance mode: a single row (id 1), absent until first switched."""

    __tablename__ = "maintenance"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    enabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    message: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = _utc()
    updated_by: str = Field(sa_column=Column(String(64), nullable=False))


class Broadcast(SQLModel, table=True):
    """An announcement to every user (or those of one language), sent by the server."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, sa_column=Column(String(8)))
    state: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    report_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    total: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = _utc()
    started_at: datetime | None = _utc(nullable=True)
    finished_at: datetime | None = _utc(nullable=True)
    cancelled_by: str | None = Field(default=None, sa_column=Column(String(64)))


class BroadcastRecipient(SQLModel, table=True):
    """One user's progress in a broadcast; the primary key makes a second row impossible."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        Index("ix_broadcast_recipients_broadcast_id_state", "broadcast_id", "state", "user_id"),
    )

    broadcast_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("broadcasts.id"), primary_key=True)
    )
    user_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False)
    )
    state: str = Field(sa_column=Column(String(16), nullable=False))
    at: datetime | None = _utc(nullable=True)
    error: str | None = Field(default=None, sa_column=Column(String(200)))


metadata = SQLModel.metadata


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # set by SQLModel at runtime


users = _table(User)
ledger_entries = _table(LedgerEntry)
jobs = _table(Job)
job_events = _table(JobEvent)
payments = _table(Payment)
promo_codes = _table(PromoCode)
promo_redemptions = _table(PromoRedemption)
referrals = _table(Referral)
telegram_updates = _table(TelegramUpdate)
fsm_states = _table(FsmState)
operator_actions = _table(OperatorActionRow)
model_overrides = _table(ModelOverrideRow)
maintenance = _table(MaintenanceRow)
cost_guard = _table(CostGuardState)
broadcasts = _table(Broadcast)
broadcast_recipients = _table(BroadcastRecipient)
