"""The FSM storage over the database, and one update's `FormStorage` holding the form the
update read."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from trt.bot.storage import FormStorage, SqlStorage, key_text, save_form
from trt.records import FormRow
from trt.store.sql import SqlStore
from trt.store.tables import fsm_states

KEY = StorageKey(bot_id=1, chat_id=7, user_id=7)
OTHER = StorageKey(bot_id=1, chat_id=8, user_id=8)


async def test_reads_within_an_update_use_the_form_it_read(store: SqlStore) -> None:
    """The update's key is answered from the row it holds (no query); other keys, and
    another update's storage, read the database."""
    storage = FormStorage(store.forms, KEY, FormRow("held", {"a": 1}))
    await store.forms.save(key_text(OTHER), FormRow("other", {"n": 1}))
    assert await storage.get_state(KEY) == "held"
    assert await storage.get_data(KEY) == {"a": 1}
    assert await storage.get_state(OTHER) == "other"
    assert await SqlStorage(store.forms).get_state(KEY) is None  # the database never held it


async def test_writes_within_an_update_reach_the_database_and_the_form(store: SqlStore):
    """Writes go to the database and keep the held form current for later reads."""
    storage = FormStorage(store.forms, KEY, None)
    await storage.set_data(KEY, {"prompt": "a cat"})
    await storage.set_state(KEY, "Flow:asking")
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (
        "Flow:asking", {"prompt": "a cat"},
    )  # fmt: skip
    assert (await store.forms.read(key_text(KEY))).state == "Flow:asking"
    await FSMContext(storage, KEY).clear()
    assert await storage.get_data(KEY) == {}
    assert (await store.forms.read(key_text(KEY))).state is None
    assert (await store.forms.read(key_text(KEY))).data == {}


async def test_a_form_is_saved_in_one_go(store: SqlStore) -> None:
    """State and data together; an empty form leaves no row behind."""
    context = FSMContext(SqlStorage(store.forms), KEY)
    await save_form(context, State("asking", "Flow"), {"step": "prompt"})
    assert (await store.forms.read(key_text(KEY))).state == "Flow:asking"
    assert (await store.forms.read(key_text(KEY))).data == {"step": "prompt"}
    await save_form(context, None, {})
    async with store.db.transaction(readonly=True) as conn:
        rows = await conn.execute(select(fsm_states).where(fsm_states.c.key == key_text(KEY)))
        assert rows.all() == []
