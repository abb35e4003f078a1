"""aiogram's FSM storage over the database (`trt.store.fsm`), so forms survive restarts.

The user's form row is read once per update, with their user record (`trt.store.visits`),
and `known` lends it to this storage for the rest of the update: reads of that key are
answered from it, and this update's own writes keep it current. Any other key, or any
code running outside `known`, reads the database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from trt.store import fsm
from trt.store.engine import Database
from trt.store.fsm import FormRow

# The row under one key as this update last read or wrote it; None: no row.
_known: ContextVar[tuple[str, FormRow | None] | None] = ContextVar("trt_known_form", default=None)


def key_text(key: StorageKey) -> str:
    """The row key: every part of aiogram's key, so chats, threads and bots never mix."""
    parts = (key.bot_id, key.chat_id, key.user_id, key.thread_id,
             key.business_connection_id, key.destiny)  # fmt: skip
    return ":".join("" if p is None else str(p) for p in parts)


@contextlib.contextmanager
def known(key: StorageKey, row: FormRow | None) -> Iterator[None]:
    """Within this block (one update), `row` is what the database holds under `key`."""
    token = _known.set((key_text(key), row))
    try:
        yield
    finally:
        _known.reset(token)


class SqlStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        text, (lent, row) = key_text(key), _lent(key)
        await fsm.set_state(self.db, text, value, exists=_exists(lent, row))
        if lent:
            _remember(text, FormRow(value, row.data if row else {}))

    async def get_state(self, key: StorageKey) -> str | None:
        lent, row = _lent(key)
        if lent:
            return row.state if row else None
        return await fsm.get_state(self.db, key_text(key))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        text, (lent, row) = key_text(key), _lent(key)
        await fsm.set_data(self.db, text, dict(data), exists=_exists(lent, row))
        if lent:
            _remember(text, FormRow(row.state if row else None, dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        lent, row = _lent(key)
        if lent:
            return dict(row.data) if row else {}
        return await fsm.get_data(self.db, key_text(key))

    async def save(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        """State and data together, in one transaction."""
        text, (lent, row) = key_text(key), _lent(key)
        await fsm.save(self.db, text, FormRow(state, data), exists=_exists(lent, row))
        if lent:
            _remember(text, FormRow(state, data))

    async def close(self) -> None:
        return None  # the database belongs to the runtime, which closes it


async def save_form(context: FSMContext, state: State | None, data: dict[str, Any]) -> None:
    """Set a form's state and data: one transaction with `SqlStorage`."""
    name = state.state if state else None
    if isinstance(context.storage, SqlStorage):
        await context.storage.save(context.key, name, data)
    else:
        await context.set_data(data)
        await context.set_state(name)


def _lent(key: StorageKey) -> tuple[bool, FormRow | None]:
    """(whether this update lent the row under `key`, that row: None when there is none)."""
    current = _known.get()
    if current is not None and current[0] == key_text(key):
        return True, current[1]
    return False, None


def _exists(lent: bool, row: FormRow | None) -> bool | None:
    """Whether the row is there, if known (None: the write must look)."""
    return row is not None if lent else None


def _remember(text: str, row: FormRow) -> None:
    _known.set((text, None if row.empty else row))
