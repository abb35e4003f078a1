"""The one place errors become chat messages: a TrtError gets its locale text and the
menu; a user who blocked the bot is marked; anything else is logged and answered kindly."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message

from trt.bot import keyboards
from trt.bot.texts import Texts
from trt.core.services import Services
from trt.errors import (
    DatabaseUnavailable,
    InvalidParameters,
    ModelDisabled,
    TooManyActiveJobs,
    TrtError,
)
from trt.records import UserRecord

logger = logging.getLogger(__name__)


def make_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(database_down, ExceptionTypeFilter(DatabaseUnavailable))
    router.errors.register(blocked, ExceptionTypeFilter(TelegramForbiddenError))
    router.errors.register(known, ExceptionTypeFilter(TrtError))
    router.errors.register(unexpected)
    return router


def user_text(t: Texts, exc: TrtError) -> str:
    if isinstance(exc, InvalidParameters):
        return t(exc.user_key, details="\n".join(exc.errors))
    if isinstance(exc, ModelDisabled) and exc.reason:
        return t("error.model_disabled_reason", reason=exc.reason)
    if isinstance(exc, TooManyActiveJobs):
        return t(exc.user_key, limit=exc.limit)
    return t(exc.user_key)


async def database_down(event: ErrorEvent) -> None:
    """No answer while the database is away: the update stays unprocessed and runs again
    once it is back (the update processor sees the error)."""
    raise event.exception


async def blocked(event: ErrorEvent, services: Services, user: UserRecord | None = None) -> None:
    """The user blocked the bot: remember it, so nothing more is tried."""
    if user is not None:
        await services.store.users.set_blocked_bot(user.id, True)


async def known(event: ErrorEvent, t: Texts | None = None) -> None:
    assert isinstance(event.exception, TrtError)
    logger.info("update %s: %s", event.update.update_id, event.exception)
    await _answer(event, t or Texts("en"), user_text(t or Texts("en"), event.exception))


async def unexpected(event: ErrorEvent, t: Texts | None = None) -> None:
    logger.error("update %s failed: %r", event.update.update_id, event.exception,
                 exc_info=event.exception)  # fmt: skip
    t = t or Texts("en")
    await _answer(event, t, t("error.generic"))


async def _answer(event: ErrorEvent, t: Texts, body: str) -> None:
    update = event.update
    query = update.callback_query
    message = update.message or (query.message if query else None)
    if query is not None:
        # The handler may have answered the query before it failed (Generate does, first
        # thing): `AnswerOnce` makes this a no-op then. A query too old to answer must
        # still not keep the explanation below from reaching the chat.
        with contextlib.suppress(TelegramBadRequest):
            await query.answer()
    if isinstance(message, Message):
        await message.answer(body, reply_markup=keyboards.home(t))
