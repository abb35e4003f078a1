"""aiogram's FSM storage over the database (`trt.store.fsm`), so forms survive restarts.

The user's form row is read once per update, with their user record (`trt.store.visits`).
`UserMiddleware` hands it to the update's handlers in a `FormStorage`: reads of that key
are answered from it, this update's own writes keep it current, and any other key goes to
the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from trt.core.repos import FormRepo
from trt.records import FormRow


def key_text(key: StorageKey) -> str:
    """The row key: every part of aiogram's key, so chats, threads and bots never mix."""
    parts = (key.bot_id, key.chat_id, key.user_id, key.thread_id,
             key.business_connection_id, key.destiny)  # fmt: skip
    return ":".join("" if p is None else str(p) for p in parts)


class SqlStorage(BaseStorage):
    """Every key read from and written to the database (through the FormRepo port)."""

    def __init__(self, forms: FormRepo) -> None:
        self.forms = forms

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self.forms.set_state(key_text(key), _name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self.forms.read(key_text(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.forms.set_data(key_text(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self.forms.read(key_text(key))).data)

    async def save(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        """State and data together, in one transaction."""
        await self.forms.save(key_text(key), FormRow(state, data))

    async def close(self) -> None:
        return None  # the database belongs to the runtime, which closes it


class FormStorage(SqlStorage):
    """One update's storage: the row under `key` as the update read it (None: no row),
    kept current by the update's own writes. Built per update, so nothing is shared."""

    def __init__(self, forms: FormRepo, key: StorageKey, row: FormRow | None) -> None:
        super().__init__(forms)
        self.key = key
        self.row = row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        if key != self.key:
            return await super().set_state(key, state)
        await self.forms.set_state(key_text(key), _name(state), exists=self.row is not None)
        self._keep(FormRow(_name(state), self.row.data if self.row else {}))
        return None

    async def get_state(self, key: StorageKey) -> str | None:
        if key != self.key:
            return await super().get_state(key)
        return self.row.state if self.row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if key != self.key:
            return await super().set_data(key, data)
        await self.forms.set_data(key_text(key), dict(data), exists=self.row is not None)
        self._keep(FormRow(self.row.state if self.row else None, dict(data)))
        return None

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        if key != self.key:
            return await super().get_data(key)
        return dict(self.row.data) if self.row else {}

    async def save(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        if key != self.key:
            return await super().save(key, state, data)
        row = FormRow(state, data)
        await self.forms.save(key_text(key), row, exists=self.row is not None)
        self._keep(row)
        return None

    def _keep(self, row: FormRow) -> None:
        self.row = None if row.empty else row


async def save_form(context: FSMContext, state: State | None, data: dict[str, Any]) -> None:
    """Set a form's state and data: one transaction with `SqlStorage`."""
    name = state.state if state else None
    if isinstance(context.storage, SqlStorage):
        await context.storage.save(context.key, name, data)
    else:
        await context.set_data(data)
        await context.set_state(name)


def _name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state
