"""Per-update context: the user's record and language, bans, and chats other than private.

`UserMiddleware` runs before aiogram's FSM middleware: it reads the user, their form and
their free generations in one statement (`SqlVisits.arrive`) and lends the form to the
storage and the count to the free tier for the rest of the update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import Chat, Message, TelegramObject, Update, User

from trt.bot import free
from trt.bot.storage import key_text, known
from trt.bot.texts import Texts, language_of
from trt.domain import TgUserId, storable_id
from trt.runtime import Services
from trt.store import fsm
from trt.store.base import Profile, UserRecord
from trt.store.visits import Visit

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserMiddleware(BaseMiddleware):
    """Registers the user, passes `user` and `t` (their texts) to handlers; answers banned
    users once and then ignores them; in groups answers only commands addressed to the bot."""

    def __init__(self, forms: FSMContextMiddleware) -> None:
        self.forms = forms  # aiogram's, for the storage key of the update's form

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        services: Services = data["services"]
        context = self.forms.resolve_event_context(data["bot"], data)
        if sender is None or sender.is_bot or not isinstance(event, Update) or context is None:
            return None
        if not storable_id(sender.id):  # a forged update: Telegram's ids fit in 64 bits
            return None
        day = free.today()
        # A first contact is registered when the update is recorded (`UpdateProcessor`),
        # which passes the new record: there is nothing more to read about them yet.
        registered: UserRecord | None = data.get("registered")
        if registered is not None and registered.id == sender.id:
            visit = Visit.first(registered)
        else:
            profile = Profile(
                sender.username, sender.first_name, language_of(sender.language_code)
            )
            visit = await services.store.visits.arrive(
                TgUserId(sender.id), profile, form_key=key_text(context.key),
                free_day=day if free.tier_on(services) else None,
            )  # fmt: skip
        user = visit.user
        t = Texts(user.language or language_of(sender.language_code))
        data.update(user=user, t=t, new_user=visit.created)
        if chat is not None and chat.type != "private":
            return await _group(event, data["bot"], t)
        if user.is_banned and not _payment(event):  # payments get a refusal, or a refund
            return await _banned(event, services, user.id, t)
        if user.blocked_bot:  # they wrote to us, so they unblocked the bot
            data["user"] = await services.store.users.set_blocked_bot(user.id, False)
        with known(context.key, visit.form), free.known_used(user.id, day, visit.free_used):
            return await handler(event, data)


def _payment(update: Update) -> bool:
    message = update.message
    paid = message is not None and bool(message.successful_payment or message.refunded_payment)
    return update.pre_checkout_query is not None or paid


async def _group(update: Update, bot: Bot, t: Texts) -> None:
    """Never run a flow in a group: a command addressed to us gets a pointer to the DM."""
    message = update.message
    if message is None or not (message.text or "").startswith("/"):
        return
    me = await bot.me()
    command = (message.text or "").split()[0]
    if "@" in command and command.split("@", 1)[1].lower() != (me.username or "").lower():
        return  # addressed to another bot
    await message.reply(t("other.group", link=f"https://t.me/{me.username}"))


async def _banned(update: Update, services: Services, user_id: int, t: Texts) -> None:
    key = fsm.banned_told_key(user_id)
    if await fsm.get_data(services.store.db, key):
        return
    await fsm.set_data(services.store.db, key, {"told": True})
    query = update.callback_query
    target = update.message or (query.message if query else None)
    if isinstance(target, Message):
        await target.answer(t("other.banned"))
