"""The SQLite driver's contract (`trt.store.sqlite`): small transactions run on the event
loop's thread yet never wait there, and WAL checkpoints happen in the background."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.e2e.conftest import eventually
from trt.domain import TgUserId
from trt.store import engine
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata


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


async def test_a_small_write_waits_for_another_process_off_the_loop(
    tmp_path: Path, db: Database
) -> None:
    """While another process holds the write lock, a small write waits on the connection's
    thread (the loop keeps running), then commits once the lock is free."""
    other = sqlite3.connect(tmp_path / "trt.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    write = asyncio.create_task(SqlStore(db).users.ensure(TgUserId(5), first_name="Ann"))
    for _ in range(20):  # had it waited on the loop, these turns would not come round
        await asyncio.sleep(0)
    assert not write.done()
    other.rollback()
    user, created = await asyncio.wait_for(write, timeout=10)
    assert (user.first_name, created) == ("Ann", True)
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
