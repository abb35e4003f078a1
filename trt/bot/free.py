"""The free tier: a welcome bonus once per user, and daily free generations on models the
registry marks `free`. Both are BONUS credits in the ledger under idempotency keys.

A free generation credits exactly the job's price (`bonus:free:<user>:<day>:<n>`) right
before the hold, so the ledger invariant holds and the n-th free one of a day can be
credited once only, even when "Generate" is pressed twice at the same moment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime

from trt.catalog.spec import ModelSpec
from trt.domain import LedgerKind, TgUserId
from trt.runtime import Services
from trt.store.allowance import free_key_prefix, free_used

# Free generations one user had on one day, as read with their record at the start of this
# update (`known_used`), or as a claim last found it.
_known_used: ContextVar[tuple[TgUserId, date, int] | None] = ContextVar(
    "trt_known_free_used", default=None
)


def today() -> date:
    return datetime.now(UTC).date()


async def welcome(services: Services, user_id: TgUserId) -> int:
    """Credit the welcome bonus if this user never had it; the amount credited now."""
    amount = services.settings.welcome_bonus
    if amount <= 0:
        return 0
    result = await services.store.ledger.credit(
        user_id, amount, kind=LedgerKind.BONUS, key=f"bonus:welcome:{user_id}",
        reason="welcome bonus",
    )  # fmt: skip
    return amount if result.applied else 0


def has_free_models(services: Services) -> bool:
    return any(s.free for s in services.registry.visible())


def tier_on(services: Services) -> bool:
    return services.settings.free_daily_generations > 0 and has_free_models(services)


@contextlib.contextmanager
def known_used(user_id: TgUserId, day: date, used: int) -> Iterator[None]:
    """Within this block (one update), the user had `used` free generations on `day`."""
    token = _known_used.set((user_id, day, used))
    try:
        yield
    finally:
        _known_used.reset(token)


async def free_left(services: Services, user_id: TgUserId) -> int:
    """Free generations the user has left today (0 when the free tier is off)."""
    if not tier_on(services):
        return 0
    day, known = today(), _known_used.get()
    if known is not None and known[:2] == (user_id, day):
        used = known[2]
    else:
        used = await free_used(services.store.db, user_id, day)
    return max(0, services.settings.free_daily_generations - used)


async def claim(services: Services, user_id: TgUserId, spec: ModelSpec, price: int) -> bool:
    """Credit one free generation's price if the model is free and one is left today."""
    if not spec.free or price <= 0:
        return False
    day = today()
    used = await free_used(services.store.db, user_id, day)  # fresh: it picks the key
    _known_used.set((user_id, day, used))
    if used >= services.settings.free_daily_generations:
        return False
    result = await services.store.ledger.credit(
        user_id, price, kind=LedgerKind.BONUS, key=f"{free_key_prefix(user_id, day)}{used + 1}",
        reason=f"free generation: {spec.id}",
    )  # fmt: skip
    _known_used.set((user_id, day, used + 1) if result.applied else None)
    return result.applied
