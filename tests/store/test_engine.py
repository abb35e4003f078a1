"""The unit of work (`Database.transaction`): a one-statement read opens no transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.store.engine import Database
from trt.store.tables import users


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
