"""`trt db backup` under traffic, and the migration that made users searchable."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.store.test_migrations import empty
from trt.domain import LedgerKind, TgUserId, UserOrder
from trt.errors import InsufficientBalance
from trt.store import schema
from trt.store.backup import backup
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore, open_store

USERS = [TgUserId(n) for n in range(1, 6)]


class Traffic:
    """Credits and debits on a few users, until told to stop; counts what committed."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.committed = 0
        self.progress = asyncio.Condition()
        self.stop = asyncio.Event()
        self._keys = itertools.count()

    async def run(self, worker: int) -> None:
        user = USERS[worker % len(USERS)]
        while not self.stop.is_set():
            n = next(self._keys)
            if n % 3 == 2:
                try:
                    await self.store.ledger.debit(user, 2, key=f"debit:{n}", reason="t")
                except InsufficientBalance:
                    continue
            else:
                await self.store.ledger.credit(
                    user, 3, kind=LedgerKind.GRANT, key=f"grant:{n}", reason="t"
                )
            async with self.progress:
                self.committed += 1
                self.progress.notify_all()

    async def reach(self, count: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.committed >= count)


async def _with_traffic(store: SqlStore, url: str, target: Path) -> tuple[int, int, int]:
    """Entries committed when the backup started, when it ended, and in all."""
    for user in USERS:
        await store.users.ensure(user)
    traffic = Traffic(store)
    workers = [asyncio.create_task(traffic.run(w)) for w in range(4)]
    await traffic.reach(30)
    before = traffic.committed
    await asyncio.to_thread(backup, url, target)
    after = traffic.committed
    await traffic.reach(after + 30)  # writes go on after the copy, too
    traffic.stop.set()
    await asyncio.gather(*workers)
    return before, after, traffic.committed


class TestBackupDuringTraffic:
    async def test_sqlite_copy_restores_and_keeps_the_invariant(self, tmp_path: Path) -> None:
        """Taken while credits and debits commit: the copy opens as a database, its
        balances equal its ledger, and it holds a moment between start and end."""
        url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
        db = create_database(url)
        await schema.upgrade(db)
        target = tmp_path / "copy.db"
        try:
            before, _after, total = await _with_traffic(SqlStore(db), url, target)
        finally:
            await db.dispose()
        async with open_store(f"sqlite+aiosqlite:///{target}") as copy:
            assert await copy.ledger.invariant_violations() == []
            entries = await copy.ledger.entries(limit=1_000_000)
        assert before <= len(entries) < total

    @pytest.mark.parametrize("database", ["postgres"], indirect=True)
    async def test_pg_dump_during_traffic_restores(
        self, database: Database, tmp_path: Path
    ) -> None:
        """pg_dump runs beside the writes; its archive, restored into a new database, opens
        as a store whose balances equal its ledger, at a moment between start and end."""
        tools = ("pg_dump", "pg_restore", "createdb", "dropdb")
        if any(shutil.which(tool) is None for tool in tools):
            missing = "the PostgreSQL client (pg_dump, pg_restore…) is not installed"
            if os.environ.get("CI") == "true":  # CI runs beside a server: its client too
                pytest.fail(missing)
            pytest.skip(missing)
        target = tmp_path / "copy.dump"
        before, _after, total = await _with_traffic(SqlStore(database), database.url, target)
        async with restored(database.url, target) as url:
            # The fixture's schema is built without Alembic: no revision to check here.
            copy = create_database(url)
            try:
                ledger = SqlStore(copy).ledger
                assert await ledger.invariant_violations() == []
                entries = await ledger.entries(limit=1_000_000)
            finally:
                await copy.dispose()
        assert before <= len(entries) < total


@contextlib.asynccontextmanager
async def restored(url: str, archive: Path) -> AsyncIterator[str]:
    """`archive` restored into a new database beside `url`'s (dropped afterwards): its URL."""
    source = make_url(url)
    name = f"{source.database}_restored"
    server = ["-h", source.host or "127.0.0.1", "-p", str(source.port or 5432),
              "-U", source.username or "postgres"]  # fmt: skip

    def run(*argv: str) -> None:
        subprocess.run(argv, capture_output=True, text=True, check=True)

    await asyncio.to_thread(run, "dropdb", "--if-exists", *server, name)
    await asyncio.to_thread(run, "createdb", *server, name)
    try:
        await asyncio.to_thread(run, "pg_restore", "--no-owner", *server, "-d", name, str(archive))
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        await asyncio.to_thread(run, "dropdb", "--if-exists", *server, name)


class TestNameKeyMigration:
    async def test_users_stored_before_0010_are_found(self, database: Database) -> None:
        """0010 fills the search key of the users already there, Cyrillic names too."""
        await empty(database)
        await schema.upgrade(database, "0006")
        async with database.transaction() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, first_name, balance, held, is_banned, "
                    "blocked_bot, created_at, updated_at) VALUES (7, 'IvanP', 'Иван', 0, 0, "
                    "false, false, '2026-12-01 10:00:00', '2026-12-01 10:00:00')"
                )
            )
        await schema.upgrade(database)
        users = SqlStore(database).users
        for text_ in ("иВАН", "ivanp"):
            found = await users.overview(order=UserOrder.JOINED, limit=5, text=text_)
            assert [u.id for u in found] == [7]
