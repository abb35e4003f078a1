"""The free tier as the bot shows it: daily free generations on models the registry marks
`free` (credited by core when their job opens) and how many are left today."""

from __future__ import annotations

from datetime import UTC, date, datetime

from trt.core.services import Services
from trt.domain import TgUserId
from trt.records import UserRecord


def today() -> date:
    return datetime.now(UTC).date()


def has_free_models(services: Services) -> bool:
    return any(s.free for s in services.registry.visible())


def tier_on(services: Services) -> bool:
    return services.settings.free_daily_generations > 0 and has_free_models(services)


async def free_left(services: Services, user: UserRecord) -> int:
    """Free generations the user has left today (0 when the free tier is off): counted by
    the read that gave `user` when it was this update's visit, else read now."""
    if not tier_on(services):
        return 0
    day, known = today(), user.free_used
    used = known.count if known and known.day == day else await _used(services, user.id, day)
    return max(0, services.settings.free_daily_generations - used)


async def _used(services: Services, user_id: TgUserId, day: date) -> int:
    return await services.store.ledger.free_used(user_id, day)
