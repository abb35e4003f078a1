"""Request middlewares on the bot's session, so every outgoing Bot API call passes them:
handler replies, deliveries, progress edits and admin alerts alike.

`FloodControl` paces calls and retries 429s (see `trt.bot.sender`). `BlockedWatch` marks a
user who blocked the bot (Telegram answers 403 to a call into their private chat), so the
errors router and the delivery pipeline can stop trying; a 403 is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from trt.bot.sender import ChatKey, Pace, Sender
from trt.domain import TgUserId
from trt.errors import UserNotFound

logger = logging.getLogger(__name__)

UNPACED = frozenset({"sendChatAction"})


class BlockedFlags(Protocol):
    async def set_blocked_bot(self, user_id: TgUserId, blocked: bool) -> object:
        """Raises: UserNotFound."""
        ...


def pace_of(api_method: str) -> Pace:
    """How a Bot API method counts against Telegram's limits."""
    if api_method in UNPACED:
        return "free"
    if api_method.startswith(("send", "copy", "forward")):
        return "message"
    if api_method.startswith(("edit", "stopPoll")):
        return "edit"
    return "free"


def chat_of(method: TelegramMethod[Any]) -> ChatKey:
    chat = getattr(method, "chat_id", None)
    return chat if isinstance(chat, int | str) else None


class FloodControl(BaseRequestMiddleware):
    def __init__(self, sender: Sender | None = None) -> None:
        self.sender = sender or Sender()
        # aiogram reads each answer into `Response[<the method's result type>]`, a generic
        # model pydantic caches only weakly: the garbage collector drops it between calls
        # and the next call builds it again (2-20 ms of schema building on the event loop,
        # a third of an update's CPU). Held here, one per method the bot calls, it stays.
        self.answer_models: dict[type[Any], type[Any]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self.answer_models:
            self.answer_models[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await self.sender.call(
            lambda: make_request(bot, method),
            chat=chat_of(method),
            pace=pace_of(method.__api_method__),
        )


class BlockedWatch(BaseRequestMiddleware):
    def __init__(self, mark: Callable[[TgUserId], Awaitable[None]]) -> None:
        self.mark = mark

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramForbiddenError:
            chat = chat_of(method)
            if isinstance(chat, int) and chat > 0:  # a private chat's id is its user's id
                await self.mark(TgUserId(chat))
            raise


def watch_blocked(bot: Bot, users: BlockedFlags) -> None:
    """Mark users who blocked `bot` in `users`; a second call replaces the first watch.

    It sits inside `FloodControl` (registered by `make_bot`), so it sees each answer once.
    """

    async def mark(user_id: TgUserId) -> None:
        try:
            await users.set_blocked_bot(user_id, True)
        except UserNotFound:
            return
        logger.info("user %s blocked the bot", user_id)

    middlewares = bot.session.middleware
    for old in [m for m in middlewares if isinstance(m, BlockedWatch)]:
        middlewares.unregister(old)
    middlewares.register(BlockedWatch(mark))
