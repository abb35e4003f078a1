"""The command lists Telegram shows: per language for everyone, and for each admin's chat."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from trt.bot.texts import LANGUAGES, text

logger = logging.getLogger(__name__)

USER_COMMANDS = (
    "start", "menu", "models", "balance", "topup", "history", "invite", "promo", "language",
    "settings", "help", "paysupport", "terms", "cancel",
)  # fmt: skip
ADMIN_COMMANDS = (
    "admin", "user", "grant", "model", "disable", "enable", "markup", "maintenance",
    "broadcast", "ban", "unban",
)  # fmt: skip


def commands(lang: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=n, description=text(lang, f"commands.{n}")) for n in names]


async def publish_commands(bot: Bot, admin_ids: frozenset[int]) -> None:
    """setMyCommands per language (English as the default), and admin lists by chat scope."""
    await bot.set_my_commands(commands("en", USER_COMMANDS), scope=BotCommandScopeDefault())
    for lang in LANGUAGES:
        await bot.set_my_commands(
            commands(lang, USER_COMMANDS), scope=BotCommandScopeDefault(), language_code=lang
        )
    for admin in sorted(admin_ids):
        try:
            await bot.set_my_commands(
                commands("ru", USER_COMMANDS + ADMIN_COMMANDS),
                scope=BotCommandScopeChat(chat_id=admin),
            )
        except TelegramBadRequest as exc:  # "chat not found" until the admin starts the bot
            logger.warning("admin commands for %s not set: %s", admin, exc.message)
