"""aiosqlite, made cheap for the bot's many small transactions.

aiosqlite runs every sqlite3 call on its connection's thread. Each hand-over costs a thread
wake-up and an event-loop wake-up (about 0.1 ms here, more after an idle spell) while a
point query takes a few microseconds, and SQLAlchemy's adapter makes four calls per
statement (cursor, execute, fetchall, close). A one-row read transaction cost 1.2 ms.

- `BufferedCursor` does a statement's four calls in one hand-over and keeps the rows.
- A transaction the caller marks `small` (a handful of rows by key, see
  `Database.transaction`) runs on the event loop's own thread, with no hand-over at all.
  It never waits there: BEGIN IMMEDIATE is tried without a busy timeout, and when another
  process holds the write lock the transaction goes back to the connection's thread to
  wait. Commits do not wait either: in WAL mode with synchronous=NORMAL a commit only
  appends to the WAL, because checkpoints (the only fsyncs) run on a background thread
  (`checkpoint`), never inside a commit.
- Everything else (reports, scans, migrations) stays on the connection's thread, as before.

The engine opts in through SQLAlchemy's public `async_creator` (see `trt.store.engine`);
SQLAlchemy's own aiosqlite adapter drives these objects as it would aiosqlite's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

Row = tuple[Any, ...]
Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
Outcome = tuple[Description, list[Row], int, int | None]


class FusedConnection(aiosqlite.Connection):
    # Run calls on the caller's thread; set for each transaction by the engine.
    inline = False

    def __init__(self, connector: Callable[[], sqlite3.Connection], patience_ms: int) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self.patience_ms = patience_ms  # the busy timeout when waiting is allowed
        self._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own

    def cursor(self) -> BufferedCursor:  # type: ignore[override]
        return BufferedCursor(self)

    async def run(self, function: Callable[[sqlite3.Connection], Any]) -> Any:
        """`function(sqlite3 connection)`, on this thread when `inline`, else in one hop."""
        return await self._execute(function, self._conn)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.inline:
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def begin_read(self) -> None:
        """BEGIN (DEFERRED) here and now: it takes no lock, so it cannot wait."""
        self._conn.execute("BEGIN")
        self.inline = True

    def try_begin_immediate(self) -> bool:
        """BEGIN IMMEDIATE here and now, if no other connection holds the write lock.

        True: begun, and the transaction runs inline. False: nothing begun, the lock is
        taken elsewhere; the caller begins again on the connection's thread, which waits.
        """
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            self.inline = False
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {self.patience_ms}")
        self.inline = True
        return True

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file without blocking writers (thread, fsync)."""
        self.inline = False
        await self._execute(_checkpoint, self._conn)

    async def close(self) -> None:
        self.inline = False  # closing the last connection checkpoints: not on the loop
        await super().close()


class BufferedCursor:
    """What SQLAlchemy's aiosqlite adapter uses of `aiosqlite.Cursor`, over one hop each."""

    arraysize = 1

    def __init__(self, connection: FusedConnection) -> None:
        self._connection = connection
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Row] = []

    async def __aenter__(self) -> BufferedCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> BufferedCursor:
        self._keep(await self._connection.run(partial(_execute, sql, parameters)))
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> BufferedCursor:
        self._keep(await self._connection.run(partial(_execute_many, sql, list(rows))))
        return self

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Row]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []

    def _keep(self, outcome: Outcome) -> None:
        self.description, self._rows, self.rowcount, self.lastrowid = outcome


def _execute(sql: str, parameters: Sequence[Any], conn: sqlite3.Connection) -> Outcome:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(sql: str, rows: list[Sequence[Any]], conn: sqlite3.Connection) -> Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def fused_connector(database: str, *, patience_s: float, **options: Any) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: a `FusedConnection` to `database`."""

    async def connect() -> FusedConnection:
        connector = partial(sqlite3.connect, database, timeout=patience_s, **options)
        connection = FusedConnection(connector, patience_ms=int(patience_s * 1000))
        await connection  # starts the thread and opens the database
        return connection

    return connect
