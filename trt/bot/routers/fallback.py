"""Last in line: anything no other handler took gets a hint and the menu, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from trt.bot import screens
from trt.bot.catalog import Catalog
from trt.bot.reply import send, show
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


async def outdated(
    query: CallbackQuery, services: Services, catalog: Catalog, user: UserRecord, t: Texts
) -> None:
    """A stale or forged button: say so and show a fresh menu."""
    body, markup = await screens.home(t, services, catalog, user)
    await show(query, f"{t('menu.outdated')}\n\n{body}", markup)
