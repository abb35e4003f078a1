"""Statements run on the driver's connection (`trt.store.direct`, `Database.direct`): they
read and write exactly what SQLAlchemy's execution layer would, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, literal, select

from tests.e2e.conftest import eventually
from tests.store.conftest import postgres_url, reset_schema
from trt.domain import LedgerKind, TgUserId
from trt.store import engine
from trt.store.base import Profile
from trt.store.direct import Prepared
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore
from trt.store.tables import fsm_states, users
from trt.store.users import new_user, user_from

USER = TgUserId(8_000_000_001)  # beyond 32 bits, as Telegram ids are

BY_ID = Prepared(select(users).where(users.c.id == bindparam("id")))
INSERT_USER = Prepared(insert(users), keys=users.columns.keys())
FORM = Prepared(select(fsm_states).where(fsm_states.c.key == bindparam("key")))


async def test_a_row_reads_as_through_sqlalchemy(store: SqlStore, database: Database) -> None:
    """Aware datetimes, booleans, big integers and JSON come back as the repositories'."""
    await store.users.ensure(USER, username="ann", first_name="Ann", language="ru")
    await store.users.set_banned(USER, True)
    await store.ledger.credit(USER, 25, kind=LedgerKind.BONUS, key="k", reason="r")
    async with database.transaction() as conn:
        await conn.execute(
            insert(fsm_states).values(
                key="f", state="Flow:asking", data={"a": [1, "б"]}, updated_at=datetime.now(UTC)
            )
        )
    async with database.direct(readonly=True) as conn:
        (row,) = await conn.rows(BY_ID, {"id": USER})
        (form,) = await conn.rows(FORM, {"key": "f"})
    assert user_from(row) == await store.users.get(USER)
    assert row["created_at"].tzinfo == UTC
    assert (form["state"], form["data"]) == ("Flow:asking", {"a": [1, "б"]})
    async with database.direct(readonly=True) as conn:
        assert await conn.rows(FORM, {"key": "nobody"}) == []


async def test_a_write_is_read_back_by_sqlalchemy(store: SqlStore, database: Database) -> None:
    async with database.direct() as conn:
        changed = await conn.run(INSERT_USER, new_user(USER, Profile("ann", "Ann", "en")))
    assert changed == 1
    user = await store.users.get(USER)
    assert (user.username, user.balance, user.is_banned) == ("ann", 0, False)


async def test_a_failed_transaction_changes_nothing(store: SqlStore, database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.direct() as conn:
            await conn.run(INSERT_USER, new_user(USER, Profile(None, None, None)))
            raise RuntimeError("the caller failed half-way")
    assert await store.users.count() == 0
    async with database.direct() as conn:  # and the connection is fit for the next one
        assert await conn.run(INSERT_USER, new_user(USER, Profile(None, None, None))) == 1


async def test_a_single_statement_unit_refuses_a_second(database: Database) -> None:
    """Postgres runs a `single` unit without a transaction, so a second statement would not
    be atomic with the first: it fails on every backend, where the tests can see it."""
    with pytest.raises(AssertionError, match="second statement"):
        async with database.direct(readonly=True, single=True) as conn:
            await conn.rows(BY_ID, {"id": USER})
            await conn.rows(BY_ID, {"id": USER})


async def test_a_statement_that_needs_python_side_defaults_is_refused(
    database: Database,
) -> None:
    """Column defaults are filled in by SQLAlchemy's execution layer, which `direct` skips:
    leaving one out would insert NULL (or fail), so compiling refuses it."""
    partial_row = Prepared(insert(users), keys=("id", "created_at", "updated_at"))
    async with database.direct() as conn:
        with pytest.raises(ValueError, match="every column that has a default"):
            await conn.run(partial_row, {"id": USER})


async def test_a_spare_connection_the_server_closed_is_replaced() -> None:
    """A Postgres restart (here: its backend terminated) closes the spare connections;
    the next unit opens a fresh one instead of failing."""
    database = create_database(postgres_url())
    try:
        async with database.direct(readonly=True) as conn:
            (row,) = await conn.rows(Prepared(select(func.pg_backend_pid().label("pid"))))
        async with database.transaction() as other:
            await other.execute(select(func.pg_terminate_backend(row["pid"])))
        await eventually(lambda: dead(database))
        async with database.direct(readonly=True) as conn:
            assert await conn.rows(Prepared(select(literal(1).label("one")))) == [{"one": 1}]
    finally:
        await database.dispose()


async def dead(database: Database) -> bool:
    return all(not spare.reusable() for spare in database._direct_spares)


@pytest.fixture(params=["sqlite file", "postgres"])
async def pooled(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database whose units each take a connection of their own (an in-memory SQLite has
    only one, so its units take turns anyway)."""
    sqlite = request.param == "sqlite file"
    database = create_database(
        f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}" if sqlite else postgres_url()
    )
    await reset_schema(database)
    yield database
    await database.dispose()


async def test_units_beyond_the_connection_bound_wait_their_turn(pooled: Database) -> None:
    """At most DIRECT_CONNECTIONS units hold a connection at once; the rest wait, then run."""
    database = pooled
    inside, most = 0, 0
    release = asyncio.Event()

    async def unit() -> None:
        nonlocal inside, most
        async with database.direct(readonly=True, single=True) as conn:
            inside += 1
            most = max(most, inside)
            await release.wait()
            await conn.rows(BY_ID, {"id": USER})
            inside -= 1

    async def bound_reached() -> bool:
        return inside == engine.DIRECT_CONNECTIONS

    units = [asyncio.create_task(unit()) for _ in range(3 * engine.DIRECT_CONNECTIONS)]
    await eventually(bound_reached)
    release.set()
    await asyncio.gather(*units)
    assert most == engine.DIRECT_CONNECTIONS
