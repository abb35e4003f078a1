"""Commands: /start (with a deep-link parameter), /menu, /models, /balance, /language,
/help, /cancel; and the language buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from trt.bot import keyboards, screens
from trt.bot.callbacks import LangCb
from trt.bot.catalog import Catalog
from trt.bot.navigation import welcome
from trt.bot.reply import send, show
from trt.bot.texts import LANGUAGES, Texts
from trt.core.services import Services
from trt.records import UserRecord


def make_router() -> Router:
    """A fresh router per dispatcher (aiogram attaches a router to one parent only)."""
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(menu, Command("menu"))
    router.message.register(models, Command("models"))
    router.message.register(balance, Command("balance"))
    router.message.register(language, Command("language"))
    router.message.register(help_, Command("help"))
    router.message.register(cancel, Command("cancel"))
    router.callback_query.register(set_language, LangCb.filter(F.lang.in_(LANGUAGES)))
    return router


async def start(
    message: Message, *, command: CommandObject, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts, state: FSMContext,
) -> None:  # fmt: skip
    # command.args is the deep-link parameter (t.me/bot?start=…); kept for attribution only.
    await welcome(message, services=services, catalog=catalog, user=user, t=t, state=state)


async def menu(
    message: Message, *, services: Services, catalog: Catalog, user: UserRecord, t: Texts
) -> None:
    await send(message, *await screens.home(t, services, catalog, user))


async def models(
    message: Message, *, services: Services, catalog: Catalog, user: UserRecord, t: Texts
) -> None:
    """All models at once (/menu shows the sections only)."""
    _, sections = await screens.home(t, services, catalog, user)
    await send(message, screens.all_models(t, catalog), sections)


async def balance(message: Message, services: Services, user: UserRecord, t: Texts) -> None:
    await send(message, *await screens.balance(t, services, user))


async def language(message: Message, t: Texts) -> None:
    await send(message, t("language.choose"), keyboards.languages())


async def help_(message: Message, t: Texts) -> None:
    await send(message, t("help.text"), keyboards.home(t))


async def cancel(
    message: Message, *, state: FSMContext, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    had_form = await state.get_state() is not None
    await state.clear()
    body, markup = await screens.home(t, services, catalog, user)
    done = t("menu.cancelled") if had_form else t("menu.nothing_to_cancel")
    await send(message, f"{done}\n\n{body}", markup)


async def set_language(
    query: CallbackQuery, *, callback_data: LangCb, services: Services, catalog: Catalog,
    user: UserRecord,
) -> None:  # fmt: skip
    user = await services.store.users.set_language(user.id, callback_data.lang)
    t = Texts(callback_data.lang)
    body, markup = await screens.home(t, services, catalog, user)
    await show(query, f"{t('language.set')}\n\n{body}", markup)
