"""aiogram's FSM storage over the database (`trt.store.fsm`), so forms survive restarts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from trt.store import fsm
from trt.store.engine import Database


def key_text(key: StorageKey) -> str:
    """The row key: every part of aiogram's key, so chats, threads and bots never mix."""
    parts = (key.bot_id, key.chat_id, key.user_id, key.thread_id,
             key.business_connection_id, key.destiny)  # fmt: skip
    return ":".join("" if p is None else str(p) for p in parts)


class SqlStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await fsm.set_state(self.db, key_text(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        return await fsm.get_state(self.db, key_text(key))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await fsm.set_data(self.db, key_text(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return await fsm.get_data(self.db, key_text(key))

    async def close(self) -> None:
        return None  # the database belongs to the runtime, which closes it
