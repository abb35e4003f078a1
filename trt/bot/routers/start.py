"""/start: register the user and show the balance."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from trt.bot.texts import language_of, text
from trt.domain import TgUserId
from trt.runtime import Services


def make_router() -> Router:
    """A fresh router per dispatcher (aiogram attaches a router to one parent only)."""
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    return router


async def start(message: Message, services: Services) -> None:
    sender = message.from_user
    if sender is None:
        return
    user, _ = await services.store.users.ensure(
        TgUserId(sender.id), username=sender.username, first_name=sender.first_name,
        language=language_of(sender.language_code),
    )  # fmt: skip
    await message.answer(text(user.language or "en", "start", balance=user.balance))
