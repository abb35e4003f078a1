"""The StarPayments port over the Bot API (refundStarPayment)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from trt.errors import RefundFailed


class TelegramStars:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def refund(self, user_id: int, charge_id: str) -> None:
        try:
            await self._bot.refund_star_payment(user_id, charge_id)
        except TelegramAPIError as exc:
            # Refunded already (by us earlier, or by Telegram): the Stars are back, as wanted.
            if "CHARGE_ALREADY_REFUNDED" in exc.message:
                return
            raise RefundFailed(
                f"Telegram refused the refund of {charge_id}: {exc.message}"
            ) from None
