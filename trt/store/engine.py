"""Engine set-up for SQLite (aiosqlite) and Postgres (asyncpg), and the unit of work.

Only SQLAlchemy's public API: SQLite's transaction control follows the recipe SQLAlchemy
documents for pysqlite/aiosqlite (ours issued from the `begin` event), so write
transactions take the write lock up front. The driver's own implicit BEGIN stays on, as
IMMEDIATE, for the one kind of transaction it suits: one whose first statement writes
(it begins in the same call as that statement; the driver never begins before a read).

`Database.run` is the update path's way in: a short unit of synchronous Core work. On an
SQLite file it runs whole on a thread of its own over the standard `sqlite3` driver, one
hand-off there and back, where through aiosqlite each statement costs three or four (its
cursor, the statement, the rows, the close: each a trip to aiosqlite's thread and back).
Elsewhere (Postgres, in-memory SQLite) it runs through `AsyncConnection.run_sync`, so the
same function serves every store.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from trt.errors import DatabaseMissing, DatabaseUnavailable
from trt.settings import describe_database

# Rows an export reads per round trip: memory stays flat however long the table is.
EXPORT_BATCH = 500
# SQLite waits this long for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30
# Threads that read for `Database.run` on an SQLite file (WAL readers run beside the writer),
# about as many as the update workers; every write unit runs on one more.
READ_THREADS = 4

T = TypeVar("T")


class Database:
    """An engine plus the one way to run a transaction against it."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect = engine.dialect.name
        # SQLite has a single writer; serialising transactions in-process avoids
        # interleaving on the shared connection of an in-memory database and busy
        # retries on a file. Postgres relies on row locks instead.
        self._lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None
        self._shared_connection = isinstance(engine.pool, StaticPool)
        # `run` on an SQLite file, made on first use (most CLI commands never need it).
        self._threaded = self.dialect == "sqlite" and not self._shared_connection
        self._threads: _SqliteThreads | None = None
        # SQLite's driver already runs in autocommit mode (our `begin` hook issues BEGIN,
        # and skips it for these); setting the isolation level there would cost more hops.
        self._one_statement: dict[str, Any] = (
            {"trt_readonly": True, "trt_autocommit": True}
            if self.dialect == "sqlite"
            else {"isolation_level": "AUTOCOMMIT"}
        )

    @property
    def location(self) -> str:
        return describe_database(self.url)

    @contextlib.asynccontextmanager
    async def transaction(
        self, *, readonly: bool = False, one_statement: bool = False, write_first: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """One atomic unit of work. Raises: DatabaseUnavailable.

        `readonly` work on an SQLite file takes no write lock (WAL readers run beside the
        writer), so queries from `trt jobs list` or a second process never stall the server.
        `one_statement` (read-only) runs without BEGIN and COMMIT: a single statement is
        atomic on its own, and on the update path those are round trips (driver thread hops
        on SQLite) worth saving. `write_first`: the first statement is an INSERT, UPDATE or
        DELETE, so on SQLite the driver's implicit BEGIN IMMEDIATE, sent with it, replaces
        the hook's (a statement, three thread hops, fewer on the update path). A read before
        the first write would run outside the transaction: never pass it then.
        """
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self._lock is not None and (self._shared_connection or not readonly):
                    await stack.enter_async_context(self._lock)
                    if self._threads is not None and not readonly:
                        await self._threads.writes_done()  # `run`'s, queued before the lock
                try:
                    conn = await stack.enter_async_context(self.engine.connect())
                    if one_statement:
                        conn = await conn.execution_options(**self._one_statement)
                    elif readonly:
                        conn = await conn.execution_options(trt_readonly=True)
                    elif write_first and self.dialect == "sqlite":
                        conn = await conn.execution_options(trt_driver_begins=True)
                    await stack.enter_async_context(conn.begin())
                except Exception as exc:
                    if not _unavailable(exc):
                        raise
                    raise DatabaseUnavailable(self.location, _reason(exc)) from None
                yield conn
        except Exception as exc:
            # The server went away mid-transaction or at its commit (terminated backend,
            # restart): the same outage as a refused connection, so callers can tell it
            # from a bug.
            if not connection_lost(exc):
                raise
            raise DatabaseUnavailable(self.location, _reason(exc)) from None

    async def run(
        self, work: Callable[[Connection], T], *, readonly: bool = False,
        one_statement: bool = False,
    ) -> T:  # fmt: skip
        """`work(conn)` as one transaction: synchronous Core statements, no waiting on
        anything but the database. `readonly` and `one_statement` as for `transaction`.
        Raises: DatabaseUnavailable.
        """
        if not self._threaded:
            options = {"readonly": readonly, "one_statement": one_statement}
            async with self.transaction(**options) as conn:
                return await conn.run_sync(work)
        if self._threads is None:
            self._threads = _SqliteThreads(self.url, self.location)
        if readonly:
            running = self._threads.start(work, readonly=True)
        else:
            assert self._lock is not None
            async with self._lock:  # not while a `transaction` writes: it holds the lock
                running = self._threads.start(work, readonly=False)
        try:
            return await running
        except Exception as exc:
            if not connection_lost(exc):
                raise
            raise DatabaseUnavailable(self.location, _reason(exc)) from None

    def unavailable(self, exc: Exception) -> DatabaseUnavailable | None:
        """`exc` as DatabaseUnavailable when it says the database cannot be reached."""
        if _unavailable(exc) or connection_lost(exc):
            return DatabaseUnavailable(self.location, _reason(exc))
        return None

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._threads is not None:
            self._threads.close()
            self._threads = None


class _SqliteThreads:
    """`Database.run` on an SQLite file: the same file through the standard `sqlite3`
    driver; one thread for every write unit, so they queue there in order and run back to
    back (no trip to the event loop between two), and a few threads for reads."""

    def __init__(self, url: str, location: str) -> None:
        self.location = location
        self.engine = _sqlite_sync_engine(url, pool_size=READ_THREADS + 1)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="trt-sqlite-write")
        self.readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="trt-sqlite-read")

    def start(self, work: Callable[[Connection], T], *, readonly: bool) -> asyncio.Future[T]:
        threads = self.readers if readonly else self.writer
        return asyncio.get_running_loop().run_in_executor(threads, self._run, work, readonly)

    async def writes_done(self) -> None:
        """Return once every write unit queued so far has finished (the writer is FIFO)."""
        await asyncio.get_running_loop().run_in_executor(self.writer, _nothing)

    def close(self) -> None:
        for threads in (self.writer, self.readers):
            threads.shutdown(wait=False)  # idle: every unit started has been awaited
        self.engine.dispose()

    def _run(self, work: Callable[[Connection], T], readonly: bool) -> T:
        """On a unit thread: the whole transaction, BEGIN to COMMIT."""
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self.engine.connect())
                if readonly:
                    conn = conn.execution_options(trt_readonly=True)
                stack.enter_context(conn.begin())
            except Exception as exc:
                if not _unavailable(exc):
                    raise
                raise DatabaseUnavailable(self.location, _reason(exc)) from None
            return work(conn)


def _nothing() -> None:
    return None


def create_database(url: str, *, pool_size: int = 10, must_exist: bool = False) -> Database:
    """Build the engine for `url` (already normalised by Settings).

    `must_exist`: for work on a database that should already be there (every command but
    `trt db upgrade`), so a mistyped SQLite path is an error instead of a new empty file.
    Raises: DatabaseMissing when it must exist and does not.
    """
    if url.startswith("sqlite"):
        if must_exist and not _sqlite_file_exists(url):
            raise DatabaseMissing(describe_database(url))
        return Database(_sqlite_engine(url), url)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    return Database(engine, url)


def _sqlite_file_exists(url: str) -> bool:
    database = make_url(url).database
    return database in (None, "", ":memory:") or Path(database or "").is_file()


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    else:
        assert database is not None
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
    _control_transactions(engine.sync_engine, wal=not in_memory)
    return engine


def _sqlite_sync_engine(url: str, *, pool_size: int) -> Engine:
    """The same SQLite file through the standard `sqlite3` driver, for `Database.run`'s
    threads (connections go from thread to thread through the pool, one at a time)."""
    sync_url = make_url(url).set(drivername="sqlite+pysqlite")
    args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    engine = create_engine(sync_url, connect_args=args, pool_size=pool_size)
    _control_transactions(engine, wal=True)
    return engine


def _control_transactions(engine: Engine, *, wal: bool) -> None:
    """SQLite's transaction control, the same on both drivers (see the module's doc)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver begins (IMMEDIATE) only before an INSERT, UPDATE or DELETE outside a
        # transaction: after the hook's BEGIN below it stays silent, and a lone read
        # (`trt_autocommit`) still runs without a transaction.
        dbapi_connection.isolation_level = "IMMEDIATE"
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two processes never deadlock
        # upgrading read locks; the busy timeout makes the other one wait. Read-only work
        # begins DEFERRED and so never waits for a writer.
        options = conn.get_execution_options()
        if options.get("trt_autocommit", False):
            return  # each statement commits on its own
        if options.get("trt_driver_begins", False):
            return  # the driver's BEGIN IMMEDIATE goes out with the first (writing) statement
        conn.exec_driver_sql("BEGIN" if options.get("trt_readonly", False) else "BEGIN IMMEDIATE")


def _unavailable(exc: Exception) -> bool:
    """Whether `exc` says the database cannot be reached or opened (asyncpg's own errors
    are checked only once something has imported it: the CLI's start-up stays light)."""
    if isinstance(exc, OSError | OperationalError | DBAPIError | sqlite3.OperationalError):
        return True
    asyncpg = sys.modules.get("asyncpg")
    errors = (asyncpg.InterfaceError, asyncpg.PostgresConnectionError) if asyncpg else ()
    return isinstance(exc, errors)


def connection_lost(exc: BaseException) -> bool:
    """Whether a statement failed because its connection died (not because of the SQL)."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    if isinstance(exc, PendingRollbackError):  # the commit of a transaction whose
        return True  # connection was invalidated under it (our transactions never nest)
    asyncpg = sys.modules.get("asyncpg")
    errors = (asyncpg.InterfaceError, asyncpg.PostgresConnectionError) if asyncpg else ()
    return isinstance(exc, (OSError, *errors))


def _reason(exc: BaseException) -> str:
    """A one-line cause without the URL (asyncpg and sqlite never include passwords)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return text or type(original).__name__
