"""The few statements whose spelling differs between SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_or_ignore(
    conn: AsyncConnection,
    table: Table,
    values: dict[str, Any] | list[dict[str, Any]],
    *,
    key: str | Sequence[str],
) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING for the connection's backend (one row or many)."""
    return insert_ignoring(conn.dialect.name, table, key=key).values(values)


def insert_ignoring(dialect: str, table: Table, *, key: str | Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING for `dialect`, its rows given when executed."""
    columns = [key] if isinstance(key, str) else list(key)
    return _module(dialect).insert(table).on_conflict_do_nothing(index_elements=columns)


def upserting(dialect: str, table: Table, *, key: str, update: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE SET the `update` columns to the given row's."""
    statement = _module(dialect).insert(table)
    changes = {name: statement.excluded[name] for name in update}
    return statement.on_conflict_do_update(index_elements=[key], set_=changes)


def _module(dialect: str) -> Any:
    return postgresql if dialect == "postgresql" else sqlite
