"""Telegram's flood control: about 30 messages/s per bot, 1/s per chat, 20/min per group.

Token buckets on the emulator's clock, so a test moves a `ManualClock` instead of
sleeping. Only successful sends take a token; a refused send answers 429 with
``parameters.retry_after`` (whole seconds, at least 1), as Telegram does.
"""

from __future__ import annotations

import math

from trt.ratelimit import TokenBucket
from trt.sandbox.clock import Clock
from trt.sandbox.telegram.errors import too_many_requests
from trt.sandbox.telegram.model import EmulatorOptions


class FloodControl:
    """Per-bot and per-chat buckets; `check` raises the 429 or takes a token from both."""

    def __init__(self, options: EmulatorOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        now = clock.now()
        self.bot = TokenBucket(options.bot_rate, options.bot_burst, now=now)
        self.chats: dict[int, TokenBucket] = {}

    def _chat(self, chat_id: int, group: bool) -> TokenBucket:
        if chat_id not in self.chats:
            rate = self.options.group_rate if group else self.options.chat_rate
            burst = self.options.group_burst if group else self.options.chat_burst
            self.chats[chat_id] = TokenBucket(rate, burst, now=self.clock.now())
        return self.chats[chat_id]

    def check(self, chat_id: int, *, group: bool = False) -> None:
        """Take a token for one send to `chat_id`, or raise the 429 Telegram gives."""
        if not self.options.flood_limits:
            return
        now = self.clock.now()
        buckets = (self.bot, self._chat(chat_id, group))
        wait = max(bucket.delay(now) for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take(now)
