"""/promo CODE and the `promo_CODE` deep link: redeem a promo code once for Stars."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from trt.bot.catalog import Catalog
from trt.bot.navigation import welcome
from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.core import promo
from trt.core.services import Services
from trt.errors import PromoRefused
from trt.records import UserRecord

PREFIX = "promo_"


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(redeem, Command("promo"))
    router.message.register(
        start_with_code, CommandStart(deep_link=True, magic=F.args.startswith(PREFIX))
    )
    return router


async def redeem(
    message: Message, command: CommandObject, *, services: Services, user: UserRecord, t: Texts
) -> None:
    code = (command.args or "").strip()
    if not code:
        await send(message, t("promo.usage"))
        return
    await send(message, await _redeem(services, user, t, code))


async def start_with_code(
    message: Message, *, command: CommandObject, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts, state: FSMContext,
) -> None:  # fmt: skip
    await welcome(message, services=services, catalog=catalog, user=user, t=t, state=state)
    code = (command.args or "").removeprefix(PREFIX)
    await send(message, await _redeem(services, user, t, code))


async def _redeem(services: Services, user: UserRecord, t: Texts, code: str) -> str:
    try:
        done = await promo.redeem(services.store, code, user.id)
    except PromoRefused as exc:
        return t(f"promo.reason.{exc.reason}", code=exc.code)
    return t("promo.redeemed", code=done.code, stars=done.stars, balance=done.balance)
