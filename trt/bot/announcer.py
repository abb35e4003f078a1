"""Broadcast messages and their reports: the `Announcer` port over aiogram.

Sends go through the bot's session, so its flood control paces them with every other
call and waits out 429s, and a 403 marks the user as having blocked the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from trt.bot.texts import language_of, text
from trt.core.ports import AnnouncementUncertain
from trt.domain import RecipientState
from trt.records import BroadcastRecord

logger = logging.getLogger(__name__)

Outcome = tuple[RecipientState, str | None]


class TelegramAnnouncer:
    def __init__(
        self,
        bot: Bot,
        *,
        admin_ids: frozenset[int],
        languages: Callable[[int], Awaitable[str | None]],
    ) -> None:
        self.bot = bot
        self.admin_ids = admin_ids
        self._languages = languages

    async def announce(self, chat_id: int, body: str) -> Outcome:
        try:
            await self.bot.send_message(chat_id, body)
        except TelegramForbiddenError as exc:  # blocked, or the account is deactivated
            return RecipientState.BLOCKED, exc.message
        except TelegramRetryAfter as exc:  # refused, so not sent: the session gave up waiting
            return RecipientState.FAILED, f"Telegram asked to wait {exc.retry_after} s"
        except (
            TelegramNetworkError,
            TelegramServerError,
            aiohttp.ClientError,
            TimeoutError,
        ) as exc:
            raise AnnouncementUncertain(f"{type(exc).__name__}: {exc}") from None
        except TelegramAPIError as exc:  # 400 chat not found and the like: not sent
            return RecipientState.FAILED, exc.message
        return RecipientState.SENT, None

    async def report(self, broadcast: BroadcastRecord) -> None:
        chats = (
            [broadcast.report_chat_id]
            if broadcast.report_chat_id is not None
            else sorted(self.admin_ids)
        )
        for chat in chats:
            try:
                lang = language_of(await self._languages(chat))
            except LookupError:  # an admin who never wrote to the bot
                lang = "en"
            try:
                await self.bot.send_message(chat, report_text(lang, broadcast))
            except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("broadcast %s report to %s failed: %s", broadcast.id, chat, exc)


def report_text(lang: str, b: BroadcastRecord) -> str:
    return text(
        lang, "broadcast.report", id=b.id, total=b.total,
        sent=b.count(RecipientState.SENT), blocked=b.count(RecipientState.BLOCKED),
        failed=b.count(RecipientState.FAILED), skipped=b.count(RecipientState.SKIPPED),
        unknown=b.count(RecipientState.UNKNOWN),
    )  # fmt: skip
