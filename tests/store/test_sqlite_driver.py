"""The SQLite driver's contract (`trt.store.sqlite`): small transactions run on the event
loop's thread yet never wait there, and WAL checkpoints happen in the background."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, insert, select, text

from tests.e2e.conftest import eventually
from trt.domain import TgUserId
from trt.store import engine
from trt.store.base import Profile
from trt.store.direct import Prepared
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata, users
from trt.store.users import new_user

INSERT_USER = Prepared(insert(users), keys=users.columns.keys())
Contact = tuple[str | None, bool]  # (the user's first name, whether just created)
USER_5 = Prepared(select(users).where(users.c.id == bindparam("id", 5)))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}")

    @event.listens_for(database.engine.sync_engine, "connect")
    def _probe(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def thread_of(db: Database, **kind: bool) -> int:
    async with db.transaction(**kind) as conn:
        return int((await conn.execute(text("SELECT thread_id()"))).scalar_one())


async def test_small_transactions_run_on_the_loop_thread(db: Database) -> None:
    """Small reads and writes run their statements on the caller's thread; other work runs
    on the connection's own thread, off the event loop."""
    here = threading.get_ident()
    assert await thread_of(db, small=True) == here
    assert await thread_of(db, small=True, readonly=True) == here
    assert await thread_of(db) != here
    assert await thread_of(db, readonly=True) != here


async def test_direct_transactions_run_on_the_loop_thread_each_on_its_own_connection(
    db: Database,
) -> None:
    """`direct` work runs inline too; one begun inside another gets a connection of its own
    (it does not see the outer one's uncommitted row), and both commit."""
    here = threading.get_ident()
    thread = Prepared(select(func.thread_id().label("thread")))
    async with db.direct() as outer:
        assert (await outer.rows(thread))[0]["thread"] == here
        await outer.run(INSERT_USER, new_user(TgUserId(5), Profile(None, "Ann", None)))
        async with db.direct(readonly=True) as inner:
            assert await inner.rows(USER_5) == []
    async with db.direct(readonly=True) as later:
        assert [row["first_name"] for row in await later.rows(USER_5)] == ["Ann"]


async def first_contact(store: SqlStore) -> Contact:
    visit = await store.visits.arrive(
        TgUserId(5), Profile(None, "Ann", None), form_key="k", free_day=None
    )
    return visit.user.first_name, visit.created


async def ensure(store: SqlStore) -> Contact:
    user, created = await store.users.ensure(TgUserId(5), first_name="Ann")
    return user.first_name, created


@pytest.mark.parametrize("write", [ensure, first_contact], ids=["small", "direct"])
async def test_a_small_write_waits_for_another_process_off_the_loop(
    tmp_path: Path, db: Database, write: Callable[[SqlStore], Coroutine[Any, Any, Contact]]
) -> None:
    """While another process holds the write lock, a small write waits on the connection's
    thread (the loop keeps running), then commits once the lock is free."""
    other = sqlite3.connect(tmp_path / "trt.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    waiting = asyncio.create_task(write(SqlStore(db)))
    for _ in range(20):  # had it waited on the loop, these turns would not come round
        await asyncio.sleep(0)
    assert not waiting.done()
    other.rollback()
    assert await asyncio.wait_for(waiting, timeout=10) == ("Ann", True)
    other.close()


async def test_commits_leave_the_wal_to_background_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits never checkpoint (the database file does not grow while writes go to the
    WAL); after CHECKPOINT_EVERY writes and a pause, a background checkpoint copies them."""
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 4)
    monkeypatch.setattr(engine, "QUIET_S", 0.001)
    path = tmp_path / "wal.db"
    database = create_database(f"sqlite+aiosqlite:///{path}")
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with database.transaction(readonly=True) as conn:
        assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() == 0
    store = SqlStore(database)
    empty = path.stat().st_size
    for n in range(3):
        await store.users.ensure(TgUserId(n), first_name="x" * 50_000)
    assert path.stat().st_size == empty  # three writes, all still in the WAL
    await store.users.ensure(TgUserId(3), first_name="x" * 50_000)

    async def copied() -> bool:
        return path.stat().st_size > 150_000

    await eventually(copied)
    await database.dispose()
