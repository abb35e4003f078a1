"""The free tier's daily count, as the bot shows it: read from the ledger."""

from __future__ import annotations

from tests.bot.conftest import USER
from tests.bot.driver import Driver
from trt.bot import free
from trt.domain import LedgerKind, TgUserId
from trt.store.allowance import free_key_prefix

USER_ID = TgUserId(USER)


async def test_a_free_credit_of_today_uses_up_the_day(en: Driver) -> None:
    """One a day: before any credit one is left; a credit under today's key takes it."""
    services, day = en.services, free.today()
    assert await free.free_left(services, USER_ID) == 1
    await services.store.ledger.credit(
        USER_ID, 3, kind=LedgerKind.BONUS, key=f"{free_key_prefix(USER_ID, day)}1", reason="t"
    )
    assert await free.free_left(services, USER_ID) == 0
