"""Pacing for outgoing Bot API calls, kept under Telegram's limits: about 30 messages/s per
bot and, after a short burst, 1 message/s per chat. A 429 waits its `retry_after` (the whole
chat waits, not just the call that met it) and tries again, a bounded number of times.

`trt.bot.flood` puts a `Sender` in front of every call the bot makes, handler replies
included, so nothing else needs to pace or retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from aiogram.exceptions import TelegramRetryAfter

from trt.ratelimit import TokenBucket

logger = logging.getLogger(__name__)
T = TypeVar("T")

ChatKey = int | str | None
# "message" counts against the chat and the bot; "edit" against the bot only (Telegram lets
# a user click through a form faster than 1/s); "free" (callback answers, chat actions,
# getUpdates…) is not paced, but its 429s are still honoured.
Pace = Literal["message", "edit", "free"]

PER_BOT_PER_SECOND = 28.0  # a little under Telegram's ~30, leaving room for clock skew
# A burst sent at once can reach Telegram bunched with the next paced sends (network and
# server delays vary); a burst of 10 under a limit of 30 absorbs ~0.7 s of such variation.
BOT_BURST = 10
PER_CHAT_PER_SECOND = 1.0
CHAT_BURST = 3  # Telegram lets a short burst into one chat before flood control
ATTEMPTS = 5
LONGEST_WAIT = 60.0  # a longer retry_after fails the call instead of stalling a handler
KEEP_CHATS = 10_000  # idle chat buckets are dropped beyond this many


class Sender:
    def __init__(
        self,
        *,
        per_second: float = PER_BOT_PER_SECOND,
        bot_burst: int = BOT_BURST,
        chat_per_second: float = PER_CHAT_PER_SECOND,
        chat_burst: int = CHAT_BURST,
        attempts: int = ATTEMPTS,
        longest_wait: float = LONGEST_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._bot = TokenBucket(per_second, bot_burst, now=clock())
        self._chat_rate = (chat_per_second, float(chat_burst))
        self._chats: dict[ChatKey, TokenBucket] = {}
        self._paused: dict[ChatKey, float] = {}  # chat (None: every chat) -> until
        self.attempts = attempts
        self.longest_wait = longest_wait

    async def call(
        self, send: Callable[[], Awaitable[T]], *, chat: ChatKey = None, pace: Pace = "message"
    ) -> T:
        """Run `send` in its turn; a 429 pauses the chat for `retry_after` and tries again.

        Raises: TelegramRetryAfter after `attempts` tries or when asked to wait too long.
        """
        for attempt in range(1, self.attempts + 1):
            await self._turn(chat, pace)
            try:
                return await send()
            except TelegramRetryAfter as exc:
                logger.warning("Telegram asked to wait %s s (chat %s)", exc.retry_after, chat)
                self._paused[chat] = self._clock() + min(exc.retry_after, self.longest_wait)
                if attempt == self.attempts or exc.retry_after > self.longest_wait:
                    raise
        raise AssertionError("unreachable")

    async def _turn(self, chat: ChatKey, pace: Pace) -> None:
        await self._wait_pause(chat)
        if pace == "message" and chat is not None:
            await self._wait(self._chat(chat).take(self._clock()))
        if pace != "free":
            await self._wait(self._bot.take(self._clock()))

    async def _wait_pause(self, chat: ChatKey) -> None:
        now = self._clock()
        until = max(self._paused.get(chat, 0.0), self._paused.get(None, 0.0))
        if until <= now:
            self._paused.pop(chat, None)
            return
        await self._sleep(until - now)

    async def _wait(self, delay: float) -> None:
        if delay > 0:  # no sleep(0): an unpaced reply should not yield to other tasks
            await self._sleep(delay)

    def _chat(self, chat: ChatKey) -> TokenBucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            now = self._clock()
            if len(self._chats) >= KEEP_CHATS:
                self._chats = {k: b for k, b in self._chats.items() if not b.idle(now)}
            bucket = self._chats[chat] = TokenBucket(*self._chat_rate, now=now)
        return bucket
