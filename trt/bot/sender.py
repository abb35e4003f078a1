"""Every outgoing Bot API call goes through here: it keeps under Telegram's limits (about 30
messages/s per bot, 1/s per chat) and honours `retry_after` on a 429 instead of failing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import TelegramRetryAfter

from trt.core.schedule import RateLimiter

logger = logging.getLogger(__name__)
T = TypeVar("T")

PER_BOT_PER_SECOND = 28  # a little under Telegram's ~30, leaving room for clock skew
PER_CHAT_INTERVAL = 1.0
MAX_RETRIES = 5


class Sender:
    def __init__(self, *, per_second: float = PER_BOT_PER_SECOND) -> None:
        self._bot_limit = RateLimiter(per_second)
        self._chat_next: dict[int, float] = {}

    async def call(self, chat_id: int | None, send: Callable[[], Awaitable[T]]) -> T:
        """Run `send` within the limits; a 429 waits `retry_after` and tries again."""
        for attempt in range(MAX_RETRIES):
            await self._wait_turn(chat_id)
            try:
                return await send()
            except TelegramRetryAfter as exc:
                if attempt == MAX_RETRIES - 1:
                    raise
                logger.warning("Telegram asked to wait %s s (chat %s)", exc.retry_after, chat_id)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")

    async def _wait_turn(self, chat_id: int | None) -> None:
        if chat_id is not None:
            now = time.monotonic()
            turn = max(now, self._chat_next.get(chat_id, 0.0))
            self._chat_next[chat_id] = turn + PER_CHAT_INTERVAL
            if turn > now:
                await asyncio.sleep(turn - now)
        await self._bot_limit.wait()
