"""Per-update context: the user's record and language, bans, and chats other than private.

`UserMiddleware` stands in for aiogram's FSM middleware: it reads the user, their free
generations today and their form in one statement (`SqlVisits.arrive`) and gives the
handlers an `FSMContext` over a `FormStorage` that holds that form for the rest of the
update.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Chat, Message, TelegramObject, Update, User

from trt.bot.free import today
from trt.bot.storage import FormStorage, key_text
from trt.bot.texts import Texts, clip, language_of
from trt.core.services import Services
from trt.domain import TgUserId, storable_id
from trt.logs import log_event
from trt.records import Profile, Visit, VisitQuery

logger = logging.getLogger(__name__)

ALERT_LIMIT = 200  # Telegram's cap on a callback answer's text
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ReadAhead:
    """Visits the inbox read in the transaction that claimed their update (one trip to the
    database fewer before the reply), each held for `UserMiddleware` while its update runs.

    They are keyed by the update object itself and checked against what the middleware
    resolves (the sender, the form key, the day), so a guess that missed only costs the
    read it would have saved."""

    def __init__(self) -> None:
        self._held: dict[int, Visit] = {}

    @contextlib.contextmanager
    def holding(self, update: Update, visit: Visit | None) -> Iterator[None]:
        """While the update runs (nothing when no visit was read with its claim)."""
        if visit is None:
            yield
            return
        self._held[id(update)] = visit
        try:
            yield
        finally:
            self._held.pop(id(update), None)

    def take(self, update: Update, user_id: int, form_key: str, day: date) -> Visit | None:
        visit = self._held.pop(id(update), None)
        if visit is None or visit.user.id != user_id or visit.form_key != form_key:
            return None
        used = visit.user.free_used
        return visit if used is not None and used.day == day else None


def expected_visit(bot_id: int, payload: dict[str, Any], *, day: date) -> VisitQuery | None:
    """The visit `UserMiddleware` will want for a raw update, where it is plain to see: a
    message or button from a person in their private chat with the bot (the form key as
    aiogram's default strategy makes it). None otherwise: the middleware reads it then."""
    event = payload.get("message") or payload.get("callback_query")
    if not isinstance(event, dict):
        return None
    sender, message = event.get("from"), event.get("message", event)
    chat = message.get("chat") if isinstance(message, dict) else None
    if not isinstance(sender, dict) or not isinstance(chat, dict) or sender.get("is_bot"):
        return None
    user_id, private = sender.get("id"), chat.get("type") == "private"
    plain = not (message.get("is_topic_message") or message.get("business_connection_id"))
    if not (private and plain and storable_id(user_id) and chat.get("id") == user_id):
        return None
    key = StorageKey(bot_id=bot_id, chat_id=user_id, user_id=user_id)
    names = sender.get("username"), sender.get("first_name"), sender.get("language_code")
    return VisitQuery(TgUserId(user_id), profile(*names), key_text(key), day)


def profile(username: str | None, first_name: str | None, language_code: str | None) -> Profile:
    """What the user table keeps of a Telegram user."""
    return Profile(username, first_name, language_of(language_code))


class UserMiddleware(BaseMiddleware):
    """Registers the user, passes `user` and `t` (their texts) to handlers; answers banned
    users once and then ignores them; in groups answers only commands addressed to the bot."""

    def __init__(self, forms: FSMContextMiddleware, read_ahead: ReadAhead | None = None) -> None:
        self.forms = forms  # aiogram's, for the storage key of the update's form
        self.read_ahead = read_ahead

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        services: Services = data["services"]
        context = self.forms.resolve_event_context(data["bot"], data)
        if sender is None or sender.is_bot or not isinstance(event, Update) or context is None:
            return None
        if not storable_id(sender.id):  # a forged update: Telegram's ids fit in 64 bits
            return None
        form_key, day = key_text(context.key), today()
        visit = self.read_ahead.take(event, sender.id, form_key, day) if self.read_ahead else None
        if visit is None:
            named = profile(sender.username, sender.first_name, sender.language_code)
            visit = await services.store.visits.arrive(
                TgUserId(sender.id), named, form_key=form_key, day=day
            )
        user = visit.user
        t = Texts(user.language or language_of(sender.language_code))
        forms = FormStorage(services.store.forms, context.key, visit.form)
        data.update(
            user=user, t=t, new_user=visit.created, fsm_storage=forms,
            state=FSMContext(storage=forms, key=context.key),
            raw_state=visit.form.state if visit.form else None,
        )  # fmt: skip
        if chat is not None and chat.type != "private":
            return await _group(event, data["bot"], t)
        if user.is_banned and not _payment(event):  # payments get a refusal, or a refund
            return await _banned(event, services, user.id, t)
        if services.controls.maintenance.on and not _may_pass(event, services, user.id):
            return await _paused(event, services, t, user.id)
        if user.blocked_bot:  # they wrote to us, so they unblocked the bot
            data["user"] = await services.store.users.set_blocked_bot(user.id, False)
        return await handler(event, data)


def _payment(update: Update) -> bool:
    message = update.message
    paid = message is not None and bool(message.successful_payment or message.refunded_payment)
    return update.pre_checkout_query is not None or paid


def _may_pass(update: Update, services: Services, user_id: int) -> bool:
    """In maintenance: admins (to test), and payments Telegram already took (they must be
    credited); everything else is paused."""
    message = update.message
    paid = message is not None and bool(message.successful_payment or message.refunded_payment)
    return paid or user_id in services.settings.all_admin_ids


async def _paused(update: Update, services: Services, t: Texts, user_id: int) -> None:
    """Maintenance: a polite answer, and nothing started — no job, no invoice, no charge."""
    state = services.controls.maintenance
    log_event(
        logger, "maintenance_refused", user_id=user_id, update_id=update.update_id,
        update_type=update.event_type, reason="maintenance mode is on",
    )  # fmt: skip
    body = (
        t("other.maintenance_message", message=state.message)
        if state.message
        else t("other.maintenance")
    )
    if update.pre_checkout_query is not None:
        await update.pre_checkout_query.answer(
            ok=False, error_message=t("other.maintenance_payment")
        )
        return
    query = update.callback_query
    if query is not None:
        await query.answer(clip(body, ALERT_LIMIT), show_alert=True)
        return
    if update.message is not None:
        await update.message.answer(body)


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
    if await services.store.forms.told_banned(user_id):
        return
    await services.store.forms.tell_banned(user_id)
    query = update.callback_query
    target = update.message or (query.message if query else None)
    if isinstance(target, Message):
        await target.answer(t("other.banned"))
