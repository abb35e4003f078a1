"""Each callback query is answered once: Telegram refuses a second answer with a 400, and a
handler that answered first thing (Generate does) and then failed must not have its error
path fail on the same refusal — the explanation for the user would be lost with it.

`AnswerOnce` (a request middleware on the bot's session) lets the first answer of a query
through and makes any later one of the same query a no-op. A query id is unique and can be
answered only for a few seconds after it was sent, so the process remembers the ids it
answered, the most recent `REMEMBERED` of them: no per-update state is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

# Far more queries than are answered within Telegram's answer window, even under a burst.
REMEMBERED = 10_000


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
