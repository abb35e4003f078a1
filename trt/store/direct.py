"""Statements run straight on the driver's connection, for the bot's per-update work.

SQLAlchemy builds each statement and compiles it, once per dialect, with the same column
types (`Prepared`); only running it skips SQLAlchemy's execution layer. For a point query
that layer (execution context, a greenlet hand-over per call, result objects) costs
several times what the database does: 0.3 ms against 0.04 ms for the bot's visit read on
SQLite here, where an update makes three such transactions before it can answer.

`Database.direct` opens the transaction (see `trt.store.engine`); `DirectConnection` runs
`Prepared` statements in it on sqlite3 (inline, as `small` transactions do) or asyncpg.
Values are bound and read through the column types' own processors, so a row reads the
same as through SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement

from trt.store.sqlite import FusedConnection

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    names: tuple[str, ...]  # the bind parameters in positional order
    binds: tuple[Processor, ...]
    fixed: dict[str, Any]  # values the statement carries (a `literal`), by bind name
    columns: tuple[str, ...]  # the result's keys
    results: tuple[Processor, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [
            value if bind is None else bind(value)
            for bind, value in zip(
                self.binds,
                (self.fixed[n] if n in self.fixed else params[n] for n in self.names),
                strict=True,
            )
        ]

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return {
            key: value if result is None else result(value)
            for key, result, value in zip(self.columns, self.results, values, strict=True)
        }


Statement = ClauseElement | Callable[[str], ClauseElement]  # or built for a dialect's name


class Prepared:
    """A statement and the parameter names it is given (`keys`: for an INSERT, its columns;
    other statements name theirs with `bindparam`), compiled on first use per dialect."""

    def __init__(self, statement: Statement, keys: Sequence[str] = ()) -> None:
        self.statement = statement
        self.keys = list(keys)
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self, dialect)
        return found


def _compile(prepared: Prepared, dialect: Dialect) -> Compiled:
    statement = prepared.statement
    if not isinstance(statement, ClauseElement):
        statement = statement(dialect.name)
    compiled: Any = statement.compile(dialect=dialect, column_keys=prepared.keys or None)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        # Python-side column defaults are filled in by SQLAlchemy's execution layer.
        raise ValueError("a Prepared statement must be given every column that has a default")
    # The cached processors and `_result_columns` are what SQLAlchemy's own execution uses
    # (uv.lock pins the version); tests/store/test_direct.py holds both paths' rows equal.
    names = tuple(compiled.positiontup or ())
    binds = tuple(compiled.binds[name].type._cached_bind_processor(dialect) for name in names)
    fixed = {
        name: compiled.binds[name].value for name in names if not compiled.binds[name].required
    }
    result_columns = compiled._result_columns
    return Compiled(
        sql=compiled.string,
        names=names,
        binds=binds,
        fixed=fixed,
        columns=tuple(column[0] for column in result_columns),
        results=tuple(
            column[3]._cached_result_processor(dialect, None) for column in result_columns
        ),
    )


class DirectConnection(Protocol):
    async def rows(
        self, prepared: Prepared, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The rows the statement returns, as {column key: value}."""
        ...

    async def run(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        ...


class _Unit:
    """What both backends share: compiling for their dialect, and counting the statements
    of a single-statement unit (on both, so a second one fails the tests on SQLite too,
    not only the atomicity on Postgres)."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._left: int | None = None  # statements the unit may still run (None: any)

    def _count_from(self, *, single: bool) -> None:
        self._left = 1 if single else None

    def _statement(
        self, prepared: Prepared, params: Mapping[str, Any] | None
    ) -> tuple[Compiled, list[Any]]:
        """The compiled statement and its arguments, counted against the unit."""
        if self._left == 0:
            raise AssertionError("a unit begun as single ran a second statement")
        if self._left is not None:
            self._left -= 1
        compiled = prepared.compiled(self._dialect)
        return compiled, compiled.arguments(params or {})


class SqliteDirect(_Unit):
    """Over a `FusedConnection`: inline on the loop's thread when the transaction began
    there, else one hand-over to the connection's thread per statement."""

    def __init__(self, connection: FusedConnection, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._connection = connection

    async def begin(self, *, readonly: bool, single: bool) -> None:
        self._count_from(single=single)
        if readonly:
            self._connection.begin_read()
        elif not self._connection.try_begin_immediate():  # another process writes: wait
            await self._connection.run(partial(_sqlite_statement, "BEGIN IMMEDIATE"))

    async def end(self, *, commit: bool) -> None:
        connection = self._connection
        try:
            await connection.run(partial(_sqlite_statement, "COMMIT" if commit else "ROLLBACK"))
        except BaseException:
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    await connection.run(partial(_sqlite_statement, "ROLLBACK"))
            raise
        finally:
            connection.inline = False

    def reusable(self) -> bool:
        return not self._connection.in_transaction  # else its COMMIT and ROLLBACK failed

    async def close(self) -> None:
        await self._connection.close()

    async def rows(
        self, prepared: Prepared, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        compiled, arguments = self._statement(prepared, params)
        found, _ = await self._connection.run(partial(_sqlite_execute, compiled.sql, arguments))
        return [compiled.row(values) for values in found]

    async def run(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        compiled, arguments = self._statement(prepared, params)
        _, count = await self._connection.run(partial(_sqlite_execute, compiled.sql, arguments))
        return int(count)


def _sqlite_statement(sql: str, conn: sqlite3.Connection) -> None:
    conn.execute(sql)


def _sqlite_execute(
    sql: str, arguments: list[Any], conn: sqlite3.Connection
) -> tuple[list[tuple[Any, ...]], int]:
    cursor = conn.execute(sql, arguments)
    try:
        return (cursor.fetchall() if cursor.description else []), cursor.rowcount
    finally:
        cursor.close()


class AsyncpgDirect(_Unit):
    """Over an asyncpg connection (its own prepared-statement cache keeps the plans).

    A single-statement unit opens no transaction: one statement is atomic on its own, and
    BEGIN and COMMIT would add two round trips to the one it needs."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._connection = connection
        self._transaction: Any = None

    async def begin(self, *, readonly: bool, single: bool) -> None:
        self._count_from(single=single)
        self._transaction = None if single else self._connection.transaction(readonly=readonly)
        if self._transaction is not None:
            await self._transaction.start()

    async def end(self, *, commit: bool) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await (transaction.commit() if commit else transaction.rollback())

    def reusable(self) -> bool:
        connection = self._connection
        return not connection.is_closed() and not connection.is_in_transaction()

    async def close(self) -> None:
        await self._connection.close(timeout=5)

    async def rows(
        self, prepared: Prepared, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        compiled, arguments = self._statement(prepared, params)
        found = await self._connection.fetch(compiled.sql, *arguments)
        return [compiled.row(tuple(record)) for record in found]

    async def run(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        compiled, arguments = self._statement(prepared, params)
        status: str = await self._connection.execute(compiled.sql, *arguments)
        count = status.rsplit(" ", 1)[-1]  # "INSERT 0 1", "UPDATE 3", "DELETE 0"
        return int(count) if count.isdigit() else 0


Direct = SqliteDirect | AsyncpgDirect


def direct_over(driver: Any, dialect: Dialect) -> Direct:
    """The `Direct` for a driver connection of either backend."""
    if isinstance(driver, FusedConnection):
        return SqliteDirect(driver, dialect)
    return AsyncpgDirect(driver, dialect)
