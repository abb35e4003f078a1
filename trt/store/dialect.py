"""The few statements whose spelling differs between SQLite and Postgres."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_or_ignore(
    conn: AsyncConnection,
    table: Table,
    values: dict[str, Any] | list[dict[str, Any]],
    *,
    key: str,
) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING for the connection's backend (one row or many)."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table).values(values).on_conflict_do_nothing(index_elements=[key])
