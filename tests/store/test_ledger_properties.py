"""Random sequences of money movements with repeated keys never break the ledger invariant."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import text

from tests.store.conftest import postgres_url, reset_schema
from trt.domain import JobId, LedgerKind, TgUserId
from trt.errors import InsufficientBalance, LedgerConflict
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata

T = TypeVar("T")

USERS = st.sampled_from([TgUserId(1), TgUserId(2)])
JOBS = st.sampled_from([JobId(f"J{n}") for n in range(6)])
KEYS = st.sampled_from([f"grant:{n}" for n in range(4)])
AMOUNTS = st.integers(min_value=1, max_value=60)


@dataclass
class Model:
    balance: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0})
    held: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0})
    credit_keys: set[str] = field(default_factory=set)
    holds: dict[str, tuple[int, int]] = field(default_factory=dict)  # job -> (user, amount)
    settled: dict[str, LedgerKind] = field(default_factory=dict)
    refunded: set[str] = field(default_factory=set)


class LedgerMachine(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.model = Model()
        url = "sqlite+aiosqlite://" if self.backend == "sqlite" else postgres_url()
        self.db: Database = create_database(url)
        self.store = SqlStore(self.db)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def fresh_database(self) -> None:
        self.run(self._fresh())

    async def _fresh(self) -> None:
        if self.backend == "sqlite":
            await reset_schema(self.db)
        else:
            async with self.db.engine.begin() as conn:
                names = ", ".join(t.name for t in metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for user in (1, 2):
            await self.store.users.ensure(TgUserId(user))

    @rule(user=USERS, amount=AMOUNTS, key=KEYS)
    def credit(self, user: TgUserId, amount: int, key: str) -> None:
        result = self.run(
            self.store.ledger.credit(user, amount, kind=LedgerKind.GRANT, key=key, reason="")
        )
        assert result.applied == (key not in self.model.credit_keys)
        if result.applied:
            self.model.credit_keys.add(key)
            self.model.balance[user] += amount

    @rule(user=USERS, job=JOBS, amount=AMOUNTS)
    def hold(self, user: TgUserId, job: JobId, amount: int) -> None:
        if job in self.model.holds:
            assert not self.run(self.store.ledger.hold(user, job, amount)).applied
        elif self.model.balance[user] < amount:
            with pytest.raises(InsufficientBalance):
                self.run(self.store.ledger.hold(user, job, amount))
        else:
            assert self.run(self.store.ledger.hold(user, job, amount)).applied
            self.model.holds[job] = (user, amount)
            self.model.balance[user] -= amount
            self.model.held[user] += amount

    @rule(job=JOBS, kind=st.sampled_from([LedgerKind.CHARGE, LedgerKind.RELEASE]))
    def settle(self, job: JobId, kind: LedgerKind) -> None:
        call = self.store.ledger.charge if kind is LedgerKind.CHARGE else self.store.ledger.release
        previous = self.model.settled.get(job)
        if job not in self.model.holds or previous not in (None, kind):
            with pytest.raises(LedgerConflict):
                self.run(call(job))
            return
        assert self.run(call(job)).applied == (previous is None)
        if previous is None:
            user, amount = self.model.holds[job]
            self.model.settled[job] = kind
            self.model.held[user] -= amount
            if kind is LedgerKind.RELEASE:
                self.model.balance[user] += amount

    @rule(job=JOBS)
    def refund(self, job: JobId) -> None:
        if self.model.settled.get(job) is not LedgerKind.CHARGE:
            with pytest.raises(LedgerConflict):
                self.run(self.store.ledger.refund(job, reason="r"))
            return
        assert self.run(self.store.ledger.refund(job, reason="r")).applied == (
            job not in self.model.refunded
        )
        if job not in self.model.refunded:
            self.model.refunded.add(job)
            user, amount = self.model.holds[job]
            self.model.balance[user] += amount

    @invariant()
    def balances_match_model_and_ledger(self) -> None:
        for user in (1, 2):
            record = self.run(self.store.users.get(TgUserId(user)))
            assert (record.balance, record.held) == (
                self.model.balance[user],
                self.model.held[user],
            )
        assert self.run(self.store.ledger.invariant_violations()) == []

    def teardown(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


class PostgresLedgerMachine(LedgerMachine):
    backend = "postgres"


@pytest.mark.parametrize(
    "machine", [LedgerMachine, PostgresLedgerMachine], ids=["sqlite", "postgres"]
)
def test_ledger_state_machine(machine: type[LedgerMachine]) -> None:
    """Any sequence of credits, holds, charges, releases and refunds keeps the books exact."""
    if machine.backend == "postgres":
        postgres_url()  # skip (or fail in CI) before hypothesis starts
    machine.TestCase.settings = settings(max_examples=30, stateful_step_count=20, deadline=None)
    machine.TestCase().runTest()
