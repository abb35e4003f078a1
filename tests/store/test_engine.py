"""The units of work: `Database.transaction` (a one-statement read opens no transaction; a
transaction whose first statement writes is one all the same) and `Database.run`."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.store.conftest import reset_schema
from trt.errors import DatabaseUnavailable
from trt.store.engine import Database, create_database
from trt.store.tables import fsm_states, users


class Undone(Exception):
    pass


async def driver_in_transaction(conn: AsyncConnection) -> bool:
    """What the driver itself says (aiosqlite's property, asyncpg's method)."""
    raw: Any = (await conn.get_raw_connection()).driver_connection
    state = raw.is_in_transaction() if hasattr(raw, "is_in_transaction") else raw.in_transaction
    return bool(state)


async def test_a_one_statement_read_sends_no_begin(database: Database) -> None:
    """The visit read on the update path skips BEGIN and COMMIT (round trips, or driver
    thread hops on SQLite); other reads run in a transaction as before."""
    async with database.transaction(readonly=True, one_statement=True) as conn:
        assert (await conn.execute(select(users.c.id))).all() == []
        assert not await driver_in_transaction(conn)
    async with database.transaction(readonly=True) as conn:
        await conn.execute(select(users.c.id))
        assert await driver_in_transaction(conn)


async def test_a_write_first_transaction_is_atomic(database: Database) -> None:
    """`write_first` leaves BEGIN to the driver on SQLite (sent with the first write): the
    transaction is open from that write on, and a failure after it takes it back."""
    now = datetime.now(UTC)
    row: dict[str, Any] = {"key": "k", "state": None, "data": {}, "updated_at": now}
    with pytest.raises(Undone):
        async with database.transaction(write_first=True) as conn:
            await conn.execute(insert(fsm_states), row)
            assert await driver_in_transaction(conn)
            raise Undone
    async with database.transaction(readonly=True) as conn:
        assert (await conn.execute(select(fsm_states.c.key))).all() == []
    async with database.transaction(write_first=True) as conn:
        await conn.execute(insert(fsm_states), row)
    async with database.transaction(readonly=True) as conn:
        assert (await conn.execute(select(fsm_states.c.key))).scalars().all() == ["k"]


def _insert_then(row: dict[str, Any], then: Exception | None = None) -> Any:
    def work(conn: Connection) -> None:
        conn.execute(insert(fsm_states), row)
        if then is not None:
            raise then

    return work


async def test_a_unit_is_one_transaction(database: Database) -> None:
    """`Database.run` (the update path's units): a failure takes the unit's writes back and
    comes out as it was raised; a statement the database refuses is not an outage."""
    row: dict[str, Any] = {"key": "k", "state": None, "data": {}, "updated_at": datetime.now(UTC)}
    with pytest.raises(Undone):
        await database.run(_insert_then(row, Undone()))
    assert await database.run(lambda c: c.execute(select(fsm_states.c.key)).all()) == []
    await database.run(_insert_then(row))
    with pytest.raises(IntegrityError):  # the same key again
        await database.run(_insert_then(row))
    keys = await database.run(lambda c: c.execute(select(fsm_states.c.key)).scalars().all())
    assert keys == ["k"]


async def test_units_on_an_sqlite_file_run_on_threads_one_writer_at_a_time(
    tmp_path: Path,
) -> None:
    """On a file, a unit runs whole on a thread of its own (not the event loop's), and
    writing units take turns, with each other and with `transaction`'s writers: none of 40
    read-then-write increments is lost."""
    db = create_database(f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}")
    try:
        await reset_schema(db)
        row = {"key": "n", "state": None, "data": {"n": 0}, "updated_at": datetime.now(UTC)}
        await db.run(_insert_then(row))

        def increment(conn: Connection) -> int:
            (data,) = conn.execute(select(fsm_states.c.data)).one()
            conn.execute(update(fsm_states).values(data={"n": data["n"] + 1}))
            return threading.get_ident()

        async def increment_on_the_loop() -> int:
            async with db.transaction() as conn:
                await conn.run_sync(increment)
            return threading.get_ident()

        units = [db.run(increment) for _ in range(30)]
        transactions = [increment_on_the_loop() for _ in range(10)]
        threads = await asyncio.gather(*units, *transactions)
        assert threading.get_ident() not in threads[:30]
        (data,) = await db.run(lambda c: c.execute(select(fsm_states.c.data)).one())
        assert data == {"n": 40}
    finally:
        await db.dispose()


async def test_an_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "trt.db").mkdir()  # a folder where the file should be
    db = create_database(f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}")
    try:
        with pytest.raises(DatabaseUnavailable):
            await db.run(lambda c: c.execute(select(users.c.id)).all(), readonly=True)
    finally:
        await db.dispose()
