"""Engine set-up for SQLite (aiosqlite) and Postgres (asyncpg), and the unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from trt.errors import DatabaseUnavailable
from trt.settings import describe_database
from trt.store.direct import Direct, DirectConnection, direct_over
from trt.store.sqlite import FusedConnection, fused_connector

# SQLite waits this long for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30
# Write transactions between two background WAL checkpoints: at a few pages each, about
# SQLite's own cadence of 1000 pages (a WAL of a few MB). Each waits for a pause of QUIET_S
# without writes, CHECKPOINT_WAIT_S at most.
CHECKPOINT_EVERY = 200
QUIET_S = 0.05
CHECKPOINT_WAIT_S = 5.0
# Connections kept for `Database.direct` units: the bot's workers and its inbox writer,
# with room to spare; more units at once wait for one.
DIRECT_CONNECTIONS = 8

logger = logging.getLogger(__name__)


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
        self._wal = self.dialect == "sqlite" and not self._shared_connection
        self._writes, self._last_write = 0, 0.0
        self._checkpointing: asyncio.Task[None] | None = None
        # Connections of `direct` units (see `_direct_connection`), at most DIRECT_CONNECTIONS.
        self._direct_slots = asyncio.Semaphore(DIRECT_CONNECTIONS)
        self._direct_spares: list[Direct] = []
        self._direct_opened: list[Direct] = []

    @property
    def location(self) -> str:
        return describe_database(self.url)

    @contextlib.asynccontextmanager
    async def transaction(
        self, *, readonly: bool = False, small: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """One atomic unit of work. Raises: DatabaseUnavailable.

        `readonly` work on an SQLite file takes no write lock (WAL readers run beside the
        writer), so queries from `trt jobs list` or a second process never stall the server.
        `small`: a handful of rows found by key, the bot's per-update work; SQLite runs it
        on the event loop's thread, without a thread hop per statement (`trt.store.sqlite`).
        Scans and reports must not say so: they would hold up every other task meanwhile.
        """
        async with contextlib.AsyncExitStack() as stack:
            if self._lock is not None and (self._shared_connection or not readonly):
                await stack.enter_async_context(self._lock)
            try:
                conn = await self._connect(stack, inline=small and self.dialect == "sqlite")
                if readonly or small:
                    conn = await conn.execution_options(trt_readonly=readonly, trt_small=small)
                await stack.enter_async_context(conn.begin())
            except (OSError, OperationalError, DBAPIError) as exc:
                raise DatabaseUnavailable(self.location, _reason(exc)) from None
            yield conn
        if self._wal and not readonly:
            self._after_write()

    @contextlib.asynccontextmanager
    async def direct(
        self, *, readonly: bool = False, single: bool = False
    ) -> AsyncIterator[DirectConnection]:
        """A `small` unit of work whose statements skip SQLAlchemy's execution layer
        (`trt.store.direct`): the bot's per-update reads and writes. `single`: it runs one
        statement, which Postgres then runs without BEGIN and COMMIT. Raises:
        DatabaseUnavailable."""
        async with contextlib.AsyncExitStack() as stack:
            if self._lock is not None and (self._shared_connection or not readonly):
                await stack.enter_async_context(self._lock)
            await stack.enter_async_context(self._direct_slots)
            try:
                direct = await self._direct_connection(stack)
                await direct.begin(readonly=readonly, single=single)
            except Exception as exc:
                if not _unavailable(exc):
                    raise
                raise DatabaseUnavailable(self.location, _reason(exc)) from None
            try:
                yield direct
            except BaseException:
                await direct.end(commit=False)
                raise
            await direct.end(commit=True)
        if self._wal and not readonly:
            self._after_write()

    async def _direct_connection(self, stack: contextlib.AsyncExitStack) -> Direct:
        """A connection for one `direct` unit, handed back when it ends. They stay out of
        SQLAlchemy's pool: a checkout and return cost more than a unit's statements."""
        if self._shared_connection:  # an in-memory SQLite: its one connection, from the pool
            conn = await self._connect(stack, inline=True)
            raw = await conn.get_raw_connection()
            return direct_over(raw.driver_connection, self.engine.dialect)
        direct = None
        while self._direct_spares and direct is None:
            direct = self._direct_spares.pop()
            if not direct.reusable():  # closed meanwhile (a Postgres restart, say)
                await self._discard(direct)
                direct = None
        if direct is None:
            fairy = await self.engine.raw_connection()  # opened as the pool opens its own
            direct = direct_over(fairy.driver_connection, self.engine.dialect)
            fairy.detach()  # now ours: `dispose` closes it
            self._direct_opened.append(direct)
        stack.push_async_callback(self._give_back, direct)
        return direct

    async def _give_back(self, direct: Direct) -> None:
        if direct.reusable():
            self._direct_spares.append(direct)
        else:
            await self._discard(direct)

    async def _discard(self, direct: Direct) -> None:
        self._direct_opened.remove(direct)
        with contextlib.suppress(Exception):  # it failed already; the next unit opens anew
            await direct.close()

    async def _connect(self, stack: contextlib.AsyncExitStack, *, inline: bool) -> AsyncConnection:
        if not inline:
            return await stack.enter_async_context(self.engine.connect())
        # SQLAlchemy closes a connection in a task of its own, so that a cancellation cannot
        # cut the close short; the caller then resumes two loop turns later, behind whatever
        # else is ready. An inline transaction's close never waits: call it directly.
        conn = await self.engine.connect().start()
        stack.push_async_callback(conn.close)
        return conn

    def _after_write(self) -> None:
        """After CHECKPOINT_EVERY writes, copy the WAL into the database file in the
        background (commits never do it: `wal_autocheckpoint` is off)."""
        self._writes += 1
        self._last_write = time.monotonic()
        idle = self._checkpointing is None or self._checkpointing.done()
        if self._writes >= CHECKPOINT_EVERY and idle:
            self._writes = 0
            self._checkpointing = asyncio.create_task(self._checkpoint_when_quiet())

    async def _checkpoint_when_quiet(self) -> None:
        # A checkpoint's fsync can hold up the WAL appends of commits running meanwhile,
        # so it waits for a pause in writing, though never longer than CHECKPOINT_WAIT_S.
        deadline = time.monotonic() + CHECKPOINT_WAIT_S
        # (A poll, not an Event: "no write for QUIET_S" is the absence of events.)
        while time.monotonic() < deadline and time.monotonic() - self._last_write < QUIET_S:  # noqa: ASYNC110
            await asyncio.sleep(QUIET_S)
        try:
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.checkpoint()  # type: ignore[union-attr]
        except Exception:  # the next one copies what this one did not
            logger.warning("WAL checkpoint failed", exc_info=True)

    async def dispose(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
        for direct in list(self._direct_opened):
            await self._discard(direct)
        self._direct_spares = []
        await self.engine.dispose()


def create_database(url: str, *, pool_size: int = 10) -> Database:
    """Build the engine for `url` (already normalised by Settings)."""
    if url.startswith("sqlite"):
        return Database(_sqlite_engine(url), url)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    return Database(engine, url)


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    connect = fused_connector(
        database or ":memory:", patience_s=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False
    )
    # Every transaction here ends in COMMIT or ROLLBACK (`Database.transaction`, or
    # SQLAlchemy closing a connection), so the pool's extra ROLLBACK on return is skipped.
    kwargs: dict[str, Any] = {"async_creator": connect, "pool_reset_on_return": None}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    else:
        assert database is not None
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE below applies.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # see Database._after_write
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two processes never deadlock
        # upgrading read locks; the busy timeout makes the other one wait. Read-only work
        # begins DEFERRED and so never waits for a writer.
        options = conn.get_execution_options()
        readonly, small = options.get("trt_readonly", False), options.get("trt_small", False)
        driver: FusedConnection = conn.connection.driver_connection
        driver.inline = small
        if readonly and small:
            driver.begin_read()  # straight to sqlite3: SQLAlchemy's statement path costs more
        elif readonly:
            conn.exec_driver_sql("BEGIN")
        elif not (small and driver.try_begin_immediate()):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # on the connection's thread: may wait

    return engine


def _unavailable(exc: Exception) -> bool:
    """Whether `exc` says the database cannot be reached or opened (asyncpg's own errors
    are checked only once something has imported it: the CLI's start-up stays light)."""
    if isinstance(exc, OSError | OperationalError | DBAPIError | sqlite3.OperationalError):
        return True
    asyncpg = sys.modules.get("asyncpg")
    errors = (asyncpg.InterfaceError, asyncpg.PostgresConnectionError) if asyncpg else ()
    return isinstance(exc, errors)


def _reason(exc: BaseException) -> str:
    """A one-line cause without the URL (asyncpg and sqlite never include passwords)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return text or type(original).__name__
