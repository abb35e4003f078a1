"""Stars given, not bought: the welcome bonus (free generations are credited when their job
opens, `Generation.start`)."""

from __future__ import annotations

import logging

from trt.core.repos import LedgerRepo
from trt.domain import LedgerKind, TgUserId

logger = logging.getLogger(__name__)


async def welcome(ledger: LedgerRepo, user_id: TgUserId, amount: int) -> int:
    """Credit the welcome bonus if this user never had it; the amount credited now."""
    if amount <= 0:
        return 0
    result = await ledger.credit(
        user_id, amount, kind=LedgerKind.BONUS, key=f"bonus:welcome:{user_id}",
        reason="welcome bonus",
    )  # fmt: skip
    if result.applied:
        logger.info("welcome bonus: user %s credited %d Stars", user_id, amount)
    return amount if result.applied else 0
