"""The aiogram Dispatcher with every router; services reach handlers as a keyword argument.

Forms live in the database (`SqlStorage`), so a restart or a second instance continues them.
Routers are made fresh per dispatcher: aiogram attaches a router to one parent only.
"""

from __future__ import annotations

from aiogram import Dispatcher

from trt.bot import errors
from trt.bot.alerts import CreditWatch
from trt.bot.answers import AnswerAtOnce
from trt.bot.catalog import Catalog
from trt.bot.middlewares import ReadAhead, UserMiddleware
from trt.bot.routers import (
    admin,
    broadcast,
    catalog,
    controls,
    fallback,
    history,
    invite,
    payments,
    prefs,
    promo,
    results,
    start,
    support,
)
from trt.bot.storage import SqlStorage
from trt.bot.wizard import router as wizard
from trt.core.services import Services


def build_dispatcher(services: Services, read_ahead: ReadAhead | None = None) -> Dispatcher:
    """`read_ahead`: visits the update processor read with their update's claim."""
    dp = Dispatcher(
        storage=SqlStorage(services.store.forms),
        disable_fsm=True,  # UserMiddleware gives handlers their form (`FormStorage`)
        services=services,
        catalog=Catalog(services.registry, services.generation.pricing, services.controls),
        credit_watch=CreditWatch(services.settings.low_kie_credits_alert),
    )
    dp.update.outer_middleware(UserMiddleware(dp.fsm, read_ahead))
    dp.include_routers(
        errors.make_router(),
        # The commonest presses, first: its buttons' prefixes are its own and it takes no
        # messages, so no router after it could have taken them (each one passed costs).
        catalog.make_router(),
        admin.make_router(services.settings.all_admin_ids),
        controls.make_router(services.settings.all_admin_ids),
        broadcast.make_router(services.settings.all_admin_ids),
        invite.make_router(),  # before start: /start ref_<code>
        promo.make_router(),  # before start: /start promo_<code>
        start.make_router(),  # early: /start and /menu are the commonest commands
        payments.make_router(),
        prefs.make_router(),
        support.make_router(),
        history.make_router(),
        wizard.make_router(),  # the steps, then "Generate"
        results.make_router(),
        fallback.make_router(),  # last: whatever nobody took gets a hint, never silence
    )
    for router in dp.chain_tail:  # inner middlewares belong to one router each
        router.callback_query.middleware(AnswerAtOnce())
    return dp
