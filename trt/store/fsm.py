"""The SQL half of the bot's form storage: one `fsm_state` row per storage key.

`SqlForms` over the `fsm_state` table; the aiogram `BaseStorage` that calls it lives in
`trt/bot/storage.py` (aiogram stays inside trt/bot). A form therefore survives a
restart and is seen by every instance.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from trt.records import FormRow
from trt.store.dialect import upserting
from trt.store.engine import Database
from trt.store.tables import fsm_states


def banned_told_key(user_id: int) -> str:
    """The row remembering that a banned user was told once (unban deletes it)."""
    return f"banned-told:{user_id}"


@functools.cache
def _upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """Built once per dialect and set of columns: a form is saved on most updates."""
    return upserting(dialect, fsm_states, key="key", update=columns)


async def _write(
    db: Database, key: str, exists: bool | None, values: dict[str, Any], *, clearing: bool
) -> None:
    if clearing and not (await _exists(db, key) if exists is None else exists):
        return  # clearing what is not there: no write lock needed (most /start presses)
    row = {"key": key, "state": None, "data": {}, "updated_at": datetime.now(UTC), **values}

    def write(conn: Connection) -> None:
        # Insert the row, or set just the given columns of the one there (one statement).
        conn.execute(_upsert(conn.dialect.name, (*values, "updated_at")), row)
        if clearing:  # the other column may be empty too
            found = conn.execute(_select(key)).first()
            if found is not None and found.state is None and not found.data:
                conn.execute(delete(fsm_states).where(fsm_states.c.key == key))

    await db.run(write)


async def _read(db: Database, key: str) -> FormRow:
    """The row under `key`; an empty one when there is none."""
    found = await _found(db, key)
    return FormRow(found.state, found.data or {}) if found is not None else FormRow()


async def _exists(db: Database, key: str) -> bool:
    return await _found(db, key) is not None


async def _found(db: Database, key: str) -> Any:
    return await db.run(lambda conn: conn.execute(_select(key)).first(), readonly=True)


def _select(key: str) -> Any:
    return select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == key)


class SqlForms:
    """The FormRepo port: forms by storage key, and whether a banned user was told.

    `exists` on a write: whether the row is there, when the caller knows (None: look).
    A write that leaves a key with neither state nor data deletes its row.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def read(self, key: str) -> FormRow:
        """The row under `key`; an empty one when there is none."""
        return await _read(self._db, key)

    async def set_state(self, key: str, state: str | None, *, exists: bool | None = None) -> None:
        """Set the state, keeping the data."""
        await _write(self._db, key, exists, {"state": state}, clearing=state is None)

    async def set_data(
        self, key: str, data: dict[str, Any], *, exists: bool | None = None
    ) -> None:
        """Replace the data, keeping the state."""
        await _write(self._db, key, exists, {"data": data}, clearing=not data)

    async def save(self, key: str, row: FormRow, *, exists: bool | None = None) -> None:
        """Replace state and data together, in one transaction."""
        values = {"state": row.state, "data": row.data}
        await _write(self._db, key, exists, values, clearing=row.empty)

    async def told_banned(self, user_id: int) -> bool:
        return bool((await self.read(banned_told_key(user_id))).data)

    async def tell_banned(self, user_id: int) -> None:
        await self.set_data(banned_told_key(user_id), {"told": True})

    async def forget_banned(self, user_id: int) -> None:
        """Unbanned: a later ban is told again."""
        await self.set_data(banned_told_key(user_id), {})
