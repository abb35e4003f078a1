"""What several routers show or look up alike: the welcome after /start, the menu buttons'
screens, the answer to a stale button, and the job a button names when it is the user's.

Routers reach each other's screens through here, never by importing another router
(`trt.bot.screens` builds the screens; this module shows them).
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from trt.bot import keyboards, screens
from trt.bot.callbacks import Screen
from trt.bot.catalog import Catalog
from trt.bot.reply import Target, send, show
from trt.bot.texts import Texts
from trt.core import bonuses
from trt.core.services import Services
from trt.errors import JobNotFound
from trt.records import JobRecord, UserRecord


async def welcome(
    message: Message, *, services: Services, catalog: Catalog, user: UserRecord, t: Texts,
    state: FSMContext,
) -> None:  # fmt: skip
    """/start, plain or with a deep link: any form dropped, the welcome bonus, the menu."""
    await state.clear()
    bonus = await bonuses.welcome(services.store.ledger, user.id, services.settings.welcome_bonus)
    if bonus:  # the balance changed
        user = await services.store.users.get(user.id)
    name = message.from_user.first_name if message.from_user else ""
    lines = [t("start.welcome", name=name, balance=user.balance)]
    if bonus:
        lines.append(t("start.bonus", amount=bonus))
    body, markup = await screens.home(t, services, catalog, user)
    await send(message, "\n".join([*lines, "", body]), markup)


async def open_screen(
    target: Target, to: Screen, *, services: Services, catalog: Catalog, user: UserRecord,
    t: Texts,
) -> None:  # fmt: skip
    """A menu button's screen: balance, language, help, settings, top-up, else the home
    menu."""
    if to is Screen.BALANCE:
        await show(target, *await screens.balance(t, services, user))
    elif to is Screen.LANGUAGE:
        await show(target, t("language.choose"), keyboards.languages())
    elif to is Screen.HELP:
        await show(target, t("help.text"), keyboards.home(t))
    elif to is Screen.SETTINGS:
        await show(target, *screens.prefs(t, user))
    elif to is Screen.TOPUP:
        await show(target, *screens.topup(t, services, user))
    else:
        await show(target, *await screens.home(t, services, catalog, user))


async def outdated(
    query: CallbackQuery, services: Services, catalog: Catalog, user: UserRecord, t: Texts
) -> None:
    """A stale or forged button: say so and show a fresh menu."""
    body, markup = await screens.home(t, services, catalog, user)
    await show(query, f"{t('menu.outdated')}\n\n{body}", markup)


async def own_job(services: Services, user: UserRecord, job_id: str) -> JobRecord | None:
    """The job a button names, when it exists and is the user's (else the button is stale)."""
    try:
        job = await services.store.jobs.get(job_id)
    except JobNotFound:
        return None
    return job if job.user_id == user.id else None  # a forged id: not theirs
