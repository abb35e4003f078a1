"""Last in line: anything no other handler took gets a hint and the menu, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from trt.bot import screens
from trt.bot.catalog import Catalog
from trt.bot.navigation import outdated
from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.core.services import Services
from trt.records import UserRecord


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_message)
    router.callback_query.register(outdated)
    return router


async def unknown_message(
    message: Message, services: Services, catalog: Catalog, user: UserRecord, t: Texts
) -> None:
    body, markup = await screens.home(t, services, catalog, user)
    await send(message, f"{t('menu.hint')}\n\n{body}", markup)
