"""Registering the webhook with Telegram and checking that it took."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher

logger = logging.getLogger(__name__)


async def register_webhook(bot: Bot, dp: Dispatcher, *, url: str, secret_token: str) -> None:
    """setWebhook, then getWebhookInfo: a mismatch or a delivery error is logged loudly.

    `url` contains the secret path, so it is never logged.
    """
    await bot.set_webhook(
        url=url,
        secret_token=secret_token,
        allowed_updates=dp.resolve_used_update_types(),
        max_connections=40,
    )
    info = await bot.get_webhook_info()
    if info.url != url:
        logger.error("Telegram reports a different webhook URL than the one just set")
    if info.last_error_message:
        logger.warning("Telegram's last webhook delivery error: %s", info.last_error_message)
    logger.info("webhook registered; %d updates pending", info.pending_update_count)
