"""/broadcast in the admin chat: the text, a preview with the recipient count, Confirm or
Cancel; confirming queues it for the server, whose report comes back to this chat."""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from trt.bot import keyboards
from trt.bot.callbacks import BroadcastAct, BroadcastCb
from trt.bot.filters import Magic
from trt.bot.reply import send, show
from trt.bot.texts import Texts
from trt.core import broadcasts
from trt.core.audit import tg_actor
from trt.core.services import Services
from trt.errors import BroadcastTextInvalid


class Draft(StatesGroup):
    writing = State()  # waiting for the text
    reviewing = State()  # the preview is shown with Confirm / Cancel


def make_router(admin_ids: frozenset[int]) -> Router:
    router = Router(name=__name__)
    admins = Magic(F.from_user.id.in_(admin_ids))
    router.message.register(start, Command("broadcast"), admins)
    typed = Magic(F.text & ~F.text.startswith("/"))
    router.message.register(draft, StateFilter(Draft.writing), typed, admins)
    router.callback_query.register(decide, BroadcastCb.filter(), admins)
    return router


async def start(message: Message, command: CommandObject, *, state: FSMContext, t: Texts) -> None:
    language = (command.args or "").strip().lower() or None
    if language is not None and language not in broadcasts.LANGUAGES:
        await send(message, t("broadcast.bad_language"))
        return
    await state.set_state(Draft.writing)
    await state.set_data({"language": language})
    await send(message, t("broadcast.ask"))


async def draft(message: Message, *, services: Services, state: FSMContext, t: Texts) -> None:
    """The admin's text, formatted as they wrote it (Telegram's entities as HTML)."""
    language = (await state.get_data()).get("language")
    try:
        shown = await broadcasts.preview(
            services.store.broadcasts, message.html_text, language=language
        )
    except BroadcastTextInvalid as exc:
        await send(message, t("broadcast.invalid", reason=exc.reason))
        return
    nonce = secrets.token_hex(4)
    await state.set_state(Draft.reviewing)
    await state.set_data({"language": language, "text": shown.text, "draft": nonce})
    await message.answer(shown.text)  # exactly as the users will see it
    where = language or t("broadcast.all_languages")
    markup = keyboards.broadcast_confirm(t, nonce, shown.audience)
    await send(message, t("broadcast.preview", audience=shown.audience, language=where), markup)


async def decide(
    query: CallbackQuery, callback_data: BroadcastCb, *, services: Services,
    state: FSMContext, t: Texts,
) -> None:  # fmt: skip
    data = await state.get_data()
    if (
        await state.get_state() != Draft.reviewing.state
        or data.get("draft") != callback_data.draft
    ):
        await show(query, t("broadcast.stale"))
        return
    await state.clear()  # before queueing: a second press finds no draft
    if callback_data.act is BroadcastAct.CANCEL:
        await show(query, t("broadcast.cancelled"))
        return
    admin = query.from_user.id
    record = await broadcasts.queue(
        services.store, data["text"], language=data.get("language"),
        created_by=tg_actor(admin), report_chat_id=admin,
    )  # fmt: skip
    await show(query, t("broadcast.queued", id=record.id, total=record.total))
