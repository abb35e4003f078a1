"""Registering the webhook with Telegram and checking that it took."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError

from trt.errors import TrtError

logger = logging.getLogger(__name__)


class TelegramCheckFailed(TrtError):
    """Telegram did not confirm the bot as configured."""


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


async def describe_bot(bot: Bot, *, expected_webhook: str | None) -> str:
    """getMe and getWebhookInfo in one line (without the webhook URL: it holds a secret).

    Raises: TelegramCheckFailed when the token is refused or the webhook is not the expected.
    """
    try:
        me = await bot.get_me()
        info = await bot.get_webhook_info()
    except TelegramAPIError as exc:  # refused token, network failure, server error
        raise TelegramCheckFailed(f"Telegram: {exc.message}") from None
    if expected_webhook is not None and info.url != expected_webhook:
        raise TelegramCheckFailed(f"@{me.username}: the webhook is not set to this deployment")
    error = f"; last error: {info.last_error_message}" if info.last_error_message else ""
    return f"@{me.username}; {info.pending_update_count} updates pending{error}"


class BotAccount:
    """The TelegramAccount port over an aiogram bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def describe(self, *, expected_webhook: str | None) -> str:
        return await describe_bot(self.bot, expected_webhook=expected_webhook)
