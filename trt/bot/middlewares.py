"""Per-update context: the user's record and language, bans, and chats other than private.

`UserMiddleware` stands in for aiogram's FSM middleware: it reads the user, their free
generations today and their form in one statement (`SqlVisits.arrive`) and gives the
handlers an `FSMContext` over a `FormStorage` that holds that form for the rest of the
update.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import Chat, Message, TelegramObject, Update, User

from trt.bot.free import today
from trt.bot.storage import FormStorage, key_text
from trt.bot.texts import Texts, clip, language_of
from trt.core.services import Services
from trt.domain import TgUserId, storable_id
from trt.logs import log_event
from trt.records import Profile

logger = logging.getLogger(__name__)

ALERT_LIMIT = 200  # Telegram's cap on a callback answer's text
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
        profile = Profile(sender.username, sender.first_name, language_of(sender.language_code))
        visit = await services.store.visits.arrive(
            TgUserId(sender.id), profile, form_key=key_text(context.key), day=today()
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
