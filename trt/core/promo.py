"""Promo codes: the operator creates them, users redeem each code once for Stars."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from trt.domain import PromoRefusal, TgUserId
from trt.errors import PromoRefused, UsageError
from trt.records import PromoRecord, Redemption

if TYPE_CHECKING:
    from trt.core.repos import Store

logger = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Z0-9_-]{3,32}$")


def state_of(promo: PromoRecord, now: datetime) -> str:
    """What a code does if redeemed now: disabled, expired, used up, or active."""
    if promo.disabled:
        return "disabled"
    if promo.expires_at is not None and promo.expires_at <= now:
        return "expired"
    if promo.uses is not None and promo.used >= promo.uses:
        return "used up"
    return "active"


def normalise(code: str) -> str | None:
    """The code in upper case, or None when it cannot be a code."""
    code = code.strip().upper()
    return code if _CODE.match(code) else None


async def create(
    store: Store, code: str, *, stars: int, uses: int | None = None,
    expires_at: datetime | None = None, new_users_only: bool = False,
) -> PromoRecord:  # fmt: skip
    """Raises: UsageError for a bad code, amount or use count; PromoExists."""
    name = normalise(code)
    if name is None:
        raise UsageError("CODE", "3 to 32 letters, digits, '-' or '_'")
    if stars <= 0:
        raise UsageError("--stars", f"must be a positive whole number of Stars, got {stars}")
    if uses is not None and uses <= 0:
        raise UsageError("--uses", f"must be at least 1, got {uses}")
    return await store.promo.create(
        name, stars, uses=uses, expires_at=expires_at, new_users_only=new_users_only
    )


async def redeem(store: Store, code: str, user_id: TgUserId) -> Redemption:
    """Credit a code's Stars to the user, once. Raises: PromoRefused with the reason."""
    name = normalise(code)
    try:
        if name is None:
            raise PromoRefused(code[:32], PromoRefusal.UNKNOWN)
        return await store.promo.redeem(name, user_id)
    except PromoRefused as exc:
        logger.info("user %s: %s", user_id, exc)
        raise
