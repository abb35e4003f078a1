"""Each callback query is answered once, and at once.

`AnswerAtOnce` answers a button press before its handler runs: Telegram's spinner stops
straight away, and the screen's edit no longer waits behind the answer's round trip. A
handler whose answer says something (Generate's "already started") is flagged
`ANSWERS_ITSELF` and answers itself.

Telegram refuses a second answer with a 400, and a handler that answered first thing and
then failed must not have its error path fail on the same refusal — the explanation for
the user would be lost with it.

`AnswerOnce` (a request middleware on the bot's session) lets the first answer of a query
through and makes any later one of the same query a no-op. A query id is unique and can be
answered only for a few seconds after it was sent, so the process remembers the ids it
answered, the most recent `REMEMBERED` of them: no per-update state is needed.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, TelegramObject

# Far more queries than are answered within Telegram's answer window, even under a burst.
REMEMBERED = 10_000
# The handler flag (`flags={ANSWERS_ITSELF: True}`) of a handler that answers with a text.
ANSWERS_ITSELF = "answers_itself"


class AnswerAtOnce(BaseMiddleware):
    """An inner callback-query middleware: the press is answered before its handler runs."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, CallbackQuery) and not get_flag(data, ANSWERS_ITSELF):
            with contextlib.suppress(TelegramBadRequest):  # a replayed query may be too old
                await event.answer()
        return await handler(event, data)


class AnswerOnce(BaseRequestMiddleware):
    def __init__(self, remembered: int = REMEMBERED) -> None:
        self.remembered = remembered
        self.answered: OrderedDict[str, None] = OrderedDict()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        query = method.callback_query_id if isinstance(method, AnswerCallbackQuery) else None
        if query is None:
            return await make_request(bot, method)
        if query in self.answered:  # answered already
            return cast(Response[TelegramType], Response[bool](ok=True, result=True))
        response = await make_request(bot, method)
        self.answered[query] = None
        if len(self.answered) > self.remembered:
            self.answered.popitem(last=False)
        return response
