"""One leader among trt processes sharing a database: it alone polls Telegram and runs the
reconciler. Postgres: a session-level advisory lock, freed by the server when the holder's
connection dies. SQLite: an exclusive flock on a file beside the database, freed by the OS
when the holder's process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.store.engine import Database

# An arbitrary constant: the advisory-lock key every trt instance agrees on.
ADVISORY_KEY = 0x747274_0001


class PostgresAdvisoryLock:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._conn is not None:
            return await self.still_held()
        try:
            conn = await self._db.engine.connect()
        except Exception as exc:
            raise self._db.unavailable(exc) or exc from None
        try:
            query = text(f"SELECT pg_try_advisory_lock({ADVISORY_KEY})")
            got = (await conn.execute(query)).scalar()
            await conn.commit()
        except Exception as exc:
            await _close(conn)
            raise self._db.unavailable(exc) or exc from None
        if got:
            self._conn = conn
            return True
        await _close(conn)
        return False

    async def still_held(self) -> bool:
        """False once the lock's connection is gone: the server freed the lock with it."""
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
        except Exception:  # whatever broke the connection, the lock went with it
            await self._forget()
            return False
        return True

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text(f"SELECT pg_advisory_unlock({ADVISORY_KEY})"))
            await self._conn.commit()
        finally:
            await self._forget()

    async def _forget(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close(conn)


async def _close(conn: AsyncConnection) -> None:
    """Close a connection; one whose server is gone is dropped instead of returned."""
    try:
        await conn.close()
    except Exception:  # already broken: make sure the pool never hands it out again
        with contextlib.suppress(Exception):
            await conn.invalidate()


class FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    async def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(str(os.getpid()).encode())
        handle.flush()
        self._file = handle
        return True

    async def still_held(self) -> bool:
        return self._file is not None

    async def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


class SoleProcessLock:
    """An in-memory database is private to one process, which is therefore the leader."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def leader_lock(db: Database) -> PostgresAdvisoryLock | FileLock | SoleProcessLock:
    if db.dialect == "postgresql":
        return PostgresAdvisoryLock(db)
    database = make_url(db.url).database
    if database in (None, "", ":memory:"):
        return SoleProcessLock()
    assert database is not None
    return FileLock(Path(f"{database}.leader"))
