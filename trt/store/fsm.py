"""The SQL half of the bot's form storage: one `fsm_state` row per storage key.

Plain functions over the `fsm_state` table; the aiogram `BaseStorage` that calls them lives
in `trt/bot/storage.py` (aiogram stays inside trt/bot). A form therefore survives a
restart and is seen by every instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.store.dialect import upsert
from trt.store.engine import Database
from trt.store.tables import fsm_states


@dataclass(frozen=True, slots=True)
class FormRow:
    """One `fsm_state` row: a form's state and data."""

    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.state is None and not self.data


def banned_told_key(user_id: int) -> str:
    """The row remembering that a banned user was told once (unban deletes it)."""
    return f"banned-told:{user_id}"


async def get_state(db: Database, key: str) -> str | None:
    async with db.transaction(readonly=True, small=True) as conn:
        result = await conn.execute(select(fsm_states.c.state).where(fsm_states.c.key == key))
        return result.scalar_one_or_none()


async def get_data(db: Database, key: str) -> dict[str, Any]:
    async with db.transaction(readonly=True, small=True) as conn:
        result = await conn.execute(select(fsm_states.c.data).where(fsm_states.c.key == key))
        data = result.scalar_one_or_none()
    return dict(data) if data else {}


async def set_state(
    db: Database, key: str, state: str | None, *, exists: bool | None = None
) -> None:
    """Set the state, keeping the data; a key with neither is deleted.

    `exists`: whether the row is there, when the caller knows (None: look).
    """
    await _write(db, key, exists, {"state": state}, clearing=state is None)


async def set_data(
    db: Database, key: str, data: dict[str, Any], *, exists: bool | None = None
) -> None:
    """Replace the data, keeping the state; a key with neither is deleted."""
    await _write(db, key, exists, {"data": data}, clearing=not data)


async def save(db: Database, key: str, row: FormRow, *, exists: bool | None = None) -> None:
    """Replace state and data together, in one transaction."""
    await _write(db, key, exists, {"state": row.state, "data": row.data}, clearing=row.empty)


async def _write(
    db: Database, key: str, exists: bool | None, values: dict[str, Any], *, clearing: bool
) -> None:
    if clearing and not (await _exists(db, key) if exists is None else exists):
        return  # clearing what is not there: no write lock needed (most /start presses)
    async with db.transaction(small=True) as conn:
        await _upsert(conn, key, **values)
        if clearing:  # the other column may be empty too
            await _drop_if_empty(conn, key)


async def _exists(db: Database, key: str) -> bool:
    async with db.transaction(readonly=True, small=True) as conn:
        query = select(fsm_states.c.key).where(fsm_states.c.key == key)
        return (await conn.execute(query)).one_or_none() is not None


async def _upsert(conn: AsyncConnection, key: str, **values: Any) -> None:
    """Insert the row, or set just the given columns of the one there (one statement)."""
    row = {"key": key, "state": None, "data": {}, "updated_at": datetime.now(UTC), **values}
    changed = [*values, "updated_at"]
    await conn.execute(upsert(conn, fsm_states, row, key="key", update=changed))


async def _drop_if_empty(conn: AsyncConnection, key: str) -> None:
    row = (
        await conn.execute(
            select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == key)
        )
    ).one_or_none()
    if row is not None and row.state is None and not row.data:
        await conn.execute(delete(fsm_states).where(fsm_states.c.key == key))
