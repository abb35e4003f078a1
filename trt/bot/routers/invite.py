"""/invite (the user's deep link and how many joined and paid through it) and
/start ref_<code>, which binds a first-time user to the inviter before the welcome."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from trt.bot.catalog import Catalog
from trt.bot.navigation import welcome
from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.core import referrals
from trt.core.services import Services
from trt.records import UserRecord


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(invite, Command("invite"))
    router.message.register(
        start_invited, CommandStart(deep_link=True, magic=F.args.startswith(referrals.PREFIX))
    )
    return router


async def invite(
    message: Message, *, bot: Bot, services: Services, user: UserRecord, t: Texts
) -> None:
    me = await bot.me()
    link = referrals.deep_link(me.username or "", user.id)
    counts = await referrals.stats(services.store, user.id)
    percent, cap = services.settings.referral_bonus_percent, services.settings.referral_bonus
    key = "invite.text" if percent and cap else "invite.text_plain"
    await send(message, t(key, link=link, percent=percent, cap=cap, joined=counts.joined,
                          paid=counts.paid))  # fmt: skip


async def start_invited(
    message: Message, *, command: CommandObject, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts, state: FSMContext, new_user: bool = False,
) -> None:  # fmt: skip
    code = (command.args or "").removeprefix(referrals.PREFIX)
    bound = await referrals.bind(services.store, user.id, code, first_start=new_user)
    await welcome(message, services=services, catalog=catalog, user=user, t=t, state=state)
    percent, cap = services.settings.referral_bonus_percent, services.settings.referral_bonus
    if bound and percent and cap:
        await send(message, t("invite.bound", percent=percent, cap=cap))
