"""/settings: what the user chooses about the bot itself (announcements on or off)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from trt.bot import screens
from trt.bot.callbacks import PrefsCb
from trt.bot.reply import send, show
from trt.bot.texts import Texts
from trt.core.services import Services
from trt.logs import log_event
from trt.records import UserRecord

logger = logging.getLogger(__name__)


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(settings, Command("settings"))
    router.callback_query.register(toggle, PrefsCb.filter())
    return router


async def settings(message: Message, user: UserRecord, t: Texts) -> None:
    await send(message, *screens.prefs(t, user))


async def toggle(
    query: CallbackQuery, callback_data: PrefsCb, *, services: Services, user: UserRecord,
    t: Texts,
) -> None:  # fmt: skip
    opted_out = not callback_data.announcements
    if user.broadcast_opt_out != opted_out:  # a repeated press changes nothing
        user = await services.store.users.set_broadcast_opt_out(user.id, opted_out)
        log_event(logger, "broadcast_opt_out" if opted_out else "broadcast_opt_in",
                  user_id=user.id)  # fmt: skip
    await show(query, *screens.prefs(t, user))
