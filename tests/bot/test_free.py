"""The free tier's daily count, as the bot shows it: read from the ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.bot.conftest import USER
from tests.bot.driver import Driver
from trt.bot import free
from trt.core.services import Services
from trt.domain import LedgerKind, TgUserId
from trt.records import FreeUse, Profile, UserRecord
from trt.store.allowance import free_key_prefix

USER_ID = TgUserId(USER)


async def visit(services: Services) -> UserRecord:
    """The user as the update's visit read gives them (with today's free count)."""
    found = await services.store.visits.arrive(
        USER_ID, Profile(), form_key="form", day=free.today()
    )
    return found.user


async def test_a_free_credit_of_today_uses_up_the_day(en: Driver) -> None:
    """One a day: before any credit one is left; a credit under today's key takes it.
    Counted by the visit read, and by a read of its own for a record read otherwise."""
    services, day = en.services, free.today()
    before = await visit(services)
    assert before.free_used == FreeUse(day, 0)
    assert await free.free_left(services, before) == 1
    await services.store.ledger.credit(
        USER_ID, 3, kind=LedgerKind.BONUS, key=f"{free_key_prefix(USER_ID, day)}1", reason="t"
    )
    assert await free.free_left(services, await visit(services)) == 0
    assert await free.free_left(services, replace(before, free_used=None)) == 0


async def test_yesterdays_count_is_not_todays(en: Driver) -> None:
    """A record whose count is of another day (an update that ran over midnight) is
    counted again."""
    services, day = en.services, free.today()
    stale = replace(await visit(services), free_used=FreeUse(day - timedelta(days=1), 5))
    assert await free.free_left(services, stale) == 1
