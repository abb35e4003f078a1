"""The store through a Postgres outage: a connection lost mid-transaction is reported as
the database being unavailable (not as a bug), and the leader lock is dropped with the
connection and taken again, by one instance only, once the database is back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from tests.store.outage import BreakableDatabase, breakable_database
from trt.errors import DatabaseUnavailable
from trt.store.engine import Database, create_database
from trt.store.leader import PostgresAdvisoryLock


@pytest.fixture
async def broken() -> AsyncIterator[tuple[BreakableDatabase, Database]]:
    async with breakable_database() as target:
        db = create_database(target.url)
        try:
            yield target, db
        finally:
            await db.dispose()


async def test_a_connection_lost_mid_transaction_is_database_unavailable(broken) -> None:
    """A statement on a terminated backend raises DatabaseUnavailable, so callers (the
    webhook, the update processor) can answer 'retry later' instead of failing an update."""
    target, db = broken
    with pytest.raises(DatabaseUnavailable):
        async with db.transaction() as conn:
            await conn.execute(text("SELECT 1"))
            await target.cut()
            await conn.execute(text("SELECT 1"))
    await target.restore()
    async with db.transaction() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1


async def test_the_leader_lock_is_lost_with_the_database_and_regained_once(broken) -> None:
    """Two instances' locks: one holds it; the outage frees it and both fail to take it
    (DatabaseUnavailable, not a raw driver error); afterwards exactly one takes it."""
    target, db = broken
    other_db = create_database(target.url)
    first, second = PostgresAdvisoryLock(db), PostgresAdvisoryLock(other_db)
    try:
        assert [await first.try_acquire(), await second.try_acquire()] == [True, False]
        await target.cut()
        assert await first.still_held() is False
        for lock in (first, second):
            with pytest.raises(DatabaseUnavailable):
                await lock.try_acquire()
        await target.restore()
        assert sorted([await second.try_acquire(), await first.try_acquire()]) == [False, True]
        assert sorted([await first.still_held(), await second.still_held()]) == [False, True]
    finally:
        await first.release()
        await second.release()
        await other_db.dispose()
