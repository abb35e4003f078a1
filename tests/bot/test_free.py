"""The free tier's daily count: read with the user once per update, refreshed by a claim."""

from __future__ import annotations

from tests.bot.conftest import USER
from tests.bot.driver import Driver
from trt.bot import free
from trt.domain import LedgerKind, TgUserId
from trt.store.allowance import free_key_prefix

USER_ID = TgUserId(USER)


async def test_the_count_read_with_the_user_serves_until_a_claim(en: Driver) -> None:
    services, day = en.services, free.today()
    await services.store.ledger.credit(
        USER_ID, 3, kind=LedgerKind.BONUS, key=f"{free_key_prefix(USER_ID, day)}1", reason="t"
    )
    assert await free.free_left(services, USER_ID) == 0  # one a day, and it is used
    with free.known_used(USER_ID, day, 0):  # as the update read it, before that credit
        assert await free.free_left(services, USER_ID) == 1
        spec = services.registry.get("google/nano-banana")
        assert not await free.claim(services, USER_ID, spec, price=3)  # the ledger says no
        assert await free.free_left(services, USER_ID) == 0  # and the claim learned it
