"""A Generation wired to fakes: in-memory SQLite, FakeKie, a recording messenger, a clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trt.catalog.paths import default_registry_dir
from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.core.generation import Generation
from trt.core.metrics import Metrics
from trt.core.ports import DeliveryFailed
from trt.core.schedule import RateLimiter
from trt.domain import JobState, LedgerKind, TgUserId
from trt.records import JobRecord, RefundNotice
from trt.sandbox.kie.fake import FakeKie
from trt.store.engine import create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata

USER = TgUserId(501)
CHAT = 501


@dataclass
class RecordingMessenger:
    """Implements Messenger: records what would reach Telegram; can be told to fail."""

    delivered: list[JobRecord] = field(default_factory=list)
    failures: list[JobRecord] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    progressed: list[JobState] = field(default_factory=list)
    refuse: list[DeliveryFailed] = field(default_factory=list)
    refunds: list[RefundNotice] = field(default_factory=list)

    async def deliver(
        self, job: JobRecord, *, free: bool = False, returned: int = 0
    ) -> str | None:
        if self.refuse:
            raise self.refuse.pop(0)
        self.delivered.append(job)
        return f"file-{job.id}"

    async def resend(self, job: JobRecord, chat_id: int, *, free: bool = False) -> None:
        self.delivered.append(job)

    async def tell_failure(self, job: JobRecord) -> None:
        self.failures.append(job)

    async def progress(self, job: JobRecord) -> None:
        self.progressed.append(job.state)

    async def alert_admins(self, text: str) -> None:
        self.alerts.append(text)

    async def tell_refund(self, notice: RefundNotice) -> bool:
        self.refunds.append(notice)
        return True


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def _no_sleep(_: float) -> None:
    return None


@dataclass
class Rig:
    gen: Generation
    store: SqlStore
    kie: FakeKie
    messenger: RecordingMessenger
    clock: Clock


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load(default_registry_dir())


def build(store: SqlStore, registry: Registry, *, callbacks: bool = True) -> Rig:
    kie, messenger, clock = FakeKie(), RecordingMessenger(), Clock()
    gen = Generation(
        store=store, kie=kie, registry=registry,
        pricing=Pricing(Decimal("0.005"), Decimal("0.013"), Decimal("1.5")),
        messenger=messenger, metrics=Metrics(),
        callback_url="https://bot.example/callbacks/kie/tok" if callbacks else None,
        max_active_jobs=3, kie_reads=RateLimiter(10, sleep=_no_sleep), clock=clock,
    )  # fmt: skip
    return Rig(gen, store, kie, messenger, clock)


@pytest.fixture
async def rig(registry: Registry) -> AsyncIterator[Rig]:
    db = create_database("sqlite+aiosqlite://")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    store = SqlStore(db)
    await store.users.ensure(USER)
    await store.ledger.credit(USER, 100, kind=LedgerKind.TOPUP, key="topup:t", reason="")
    yield build(store, registry)
    await db.dispose()
