"""The unit of work (`Database.transaction`): a one-statement read opens no transaction; a
transaction whose first statement writes is one all the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.store.engine import Database
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
