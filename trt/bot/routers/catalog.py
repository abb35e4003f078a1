"""The catalogue: menu sections, paged model lists, model cards."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from trt.bot import free, keyboards, screens
from trt.bot.callbacks import CardCb, CategoryCb, NavCb
from trt.bot.catalog import Catalog
from trt.bot.navigation import open_screen, outdated
from trt.bot.reply import show
from trt.bot.texts import Texts
from trt.catalog.kinds import Category
from trt.core.services import Services
from trt.records import UserRecord


def make_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(navigate, NavCb.filter())
    router.callback_query.register(category, CategoryCb.filter())
    router.callback_query.register(card, CardCb.filter())
    return router


async def navigate(
    query: CallbackQuery, *, callback_data: NavCb, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    await open_screen(query, callback_data.to, services=services, catalog=catalog, user=user, t=t)


async def category(
    query: CallbackQuery, *, callback_data: CategoryCb, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    known = callback_data.category in Category._value2member_map_
    screen = (
        screens.category(t, catalog, Category(callback_data.category), callback_data.page)
        if known
        else None
    )
    if screen is None:
        await outdated(query, services, catalog, user, t)
        return
    await show(query, *screen)


async def card(
    query: CallbackQuery, *, callback_data: CardCb, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    spec = catalog.by_ref(callback_data.model)
    if spec is None:
        await outdated(query, services, catalog, user, t)
        return
    left = await free.free_left(services, user) if spec.free else 0
    body, buttons = screens.card(t, catalog, spec, callback_data.page, left)
    if user.id in services.settings.all_admin_ids:  # nobody else sees a trace of them
        buttons = keyboards.with_admin_controls(t, buttons, callback_data.model, disabled=False)
    await show(query, body, buttons)
