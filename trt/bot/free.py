"""The free tier as the bot shows it: daily free generations on models the registry marks
`free` (credited by core when their job opens) and how many are left today."""

from __future__ import annotations

from datetime import UTC, date, datetime

from trt.core.services import Services
from trt.domain import TgUserId


def today() -> date:
    return datetime.now(UTC).date()


def has_free_models(services: Services) -> bool:
    return any(s.free for s in services.registry.visible())


def tier_on(services: Services) -> bool:
    return services.settings.free_daily_generations > 0 and has_free_models(services)


async def free_left(services: Services, user_id: TgUserId) -> int:
    """Free generations the user has left today (0 when the free tier is off)."""
    if not tier_on(services):
        return 0
    used = await services.store.ledger.free_used(user_id, today())
    return max(0, services.settings.free_daily_generations - used)
