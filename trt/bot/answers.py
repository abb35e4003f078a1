"""Each callback query is answered once: Telegram refuses a second answer with a 400, and a
handler that answered first thing (Generate does) and then failed must not have its error
path fail on the same refusal — the explanation for the user would be lost with it.

`QueryScope` (an outer update middleware) opens a fresh record for each update; `AnswerOnce`
(a request middleware on the bot's session) lets the first answer of a query through and
makes any later one of the same query a no-op. Outside an update (deliveries, the
reconciler) nothing is recorded: there are no callback queries to answer there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

# The ids of the queries answered while the current update is handled.
_answered: ContextVar[set[str] | None] = ContextVar("trt_answered_queries", default=None)


class QueryScope(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # Not reset afterwards: aiogram's errors middleware sits outside this one and runs
        # the error handlers after it returns, and they must still see this update's
        # answers. The next update replaces the record, so it holds one update's ids.
        _answered.set(set())
        return await handler(event, data)


class AnswerOnce(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        answered = _answered.get()
        query = method.callback_query_id if isinstance(method, AnswerCallbackQuery) else None
        if answered is None or query is None:
            return await make_request(bot, method)
        if query in answered:  # answered already in this update
            return cast(Response[TelegramType], Response[bool](ok=True, result=True))
        response = await make_request(bot, method)
        answered.add(query)
        return response
