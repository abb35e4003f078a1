"""The SQL half of the bot's form storage: one `fsm_state` row per storage key.

Plain functions over the `fsm_state` table; the aiogram `BaseStorage` that calls them lives
in `trt/bot/storage.py` (aiogram stays inside trt/bot). A form therefore survives a
restart and is seen by every instance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.store.dialect import insert_or_ignore
from trt.store.engine import Database
from trt.store.tables import fsm_states


def banned_told_key(user_id: int) -> str:
    """The row remembering that a banned user was told once (unban deletes it)."""
    return f"banned-told:{user_id}"


async def get_state(db: Database, key: str) -> str | None:
    async with db.transaction(readonly=True) as conn:
        result = await conn.execute(select(fsm_states.c.state).where(fsm_states.c.key == key))
        return result.scalar_one_or_none()


async def get_data(db: Database, key: str) -> dict[str, Any]:
    async with db.transaction(readonly=True) as conn:
        result = await conn.execute(select(fsm_states.c.data).where(fsm_states.c.key == key))
        data = result.scalar_one_or_none()
    return dict(data) if data else {}


async def set_state(db: Database, key: str, state: str | None) -> None:
    """Set the state, keeping the data; a key with neither is deleted."""
    if state is None and not await _exists(db, key):
        return  # clearing what is not there: no write lock needed (most /start presses)
    async with db.transaction() as conn:
        await _upsert(conn, key, state=state)
        await _drop_if_empty(conn, key)


async def set_data(db: Database, key: str, data: dict[str, Any]) -> None:
    """Replace the data, keeping the state; a key with neither is deleted."""
    if not data and not await _exists(db, key):
        return
    async with db.transaction() as conn:
        await _upsert(conn, key, data=data)
        await _drop_if_empty(conn, key)


async def _exists(db: Database, key: str) -> bool:
    async with db.transaction(readonly=True) as conn:
        query = select(fsm_states.c.key).where(fsm_states.c.key == key)
        return (await conn.execute(query)).one_or_none() is not None


async def _upsert(conn: AsyncConnection, key: str, **values: Any) -> None:
    now = datetime.now(UTC)
    row = {"key": key, "state": None, "data": {}, "updated_at": now, **values}
    inserted = await conn.execute(insert_or_ignore(conn, fsm_states, row, key="key"))
    if inserted.rowcount == 0:
        await conn.execute(
            update(fsm_states).where(fsm_states.c.key == key).values(updated_at=now, **values)
        )


async def _drop_if_empty(conn: AsyncConnection, key: str) -> None:
    row = (
        await conn.execute(
            select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == key)
        )
    ).one_or_none()
    if row is not None and row.state is None and not row.data:
        await conn.execute(delete(fsm_states).where(fsm_states.c.key == key))
