"""Admins run the shop from the chat (ADMIN_ID / ADMIN_IDS only; others never see a trace):
Disable/Enable and Markup on a model's card, /model ID, /disable ID reason, /enable ID,
/markup ID 1.8|reset, /maintenance on [message] | off. Every change is audited as `tg:<id>`.

A card button that needs words (a reason, a markup) sends a prompt the admin replies to;
the prompt's first line names the model, so no state is kept between the two messages.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, ForceReply, Message

from trt.bot import keyboards
from trt.bot.callbacks import AdminAct, AdminModelCb
from trt.bot.catalog import Catalog, ref
from trt.bot.filters import Magic
from trt.bot.labels import title
from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.catalog.spec import ModelSpec
from trt.core.audit import tg_actor
from trt.core.controls import parse_markup
from trt.core.services import Services
from trt.errors import TrtError

# The prompts' first lines: "⛔ <model id>" asks for a reason, "💲 <model id>" for a markup.
PROMPT = re.compile(r"^(?P<kind>⛔|💲) (?P<model>\S+)$")
RESET_WORDS = frozenset({"reset", "сброс", "global"})


def make_router(admin_ids: frozenset[int]) -> Router:
    router = Router(name=__name__)
    admins = Magic(F.from_user.id.in_(admin_ids))
    router.message.filter(admins)
    router.callback_query.filter(admins)
    router.message.register(model_card, Command("model"))
    router.message.register(disable, Command("disable"))
    router.message.register(enable, Command("enable"))
    router.message.register(markup, Command("markup"))
    router.message.register(maintenance, Command("maintenance"))
    router.message.register(prompt_answered, prompt_reply)
    router.callback_query.register(card_button, AdminModelCb.filter())
    return router


async def prompt_reply(message: Message, bot: Bot) -> dict[str, Any] | bool:
    """A reply to one of our prompts: gives the handler `kind` and `model`."""
    asked = message.reply_to_message
    if asked is None or asked.from_user is None or asked.from_user.id != bot.id:
        return False
    match = PROMPT.match((asked.text or "").split("\n", 1)[0])
    return match.groupdict() if match else False


async def model_card(
    message: Message, command: CommandObject, *, services: Services, catalog: Catalog, t: Texts
) -> None:
    model = (command.args or "").strip()
    if not model:
        await send(message, t("admin.model_usage"))
        return
    try:
        spec = services.registry.get(model)
    except TrtError as exc:  # an unknown id: the message names the nearest ones
        await send(message, t("admin.refused", problem=exc.message))
        return
    await _show_controls(message, services, catalog, spec, t)


async def disable(
    message: Message, command: CommandObject, *, services: Services, t: Texts
) -> None:
    model, _, reason = (command.args or "").strip().partition(" ")
    if not model or not reason.strip():
        await send(message, t("admin.disable_usage"))
        return
    await _disable(message, services, t, model, reason)


async def enable(
    message: Message, command: CommandObject, *, services: Services, t: Texts
) -> None:
    model, _, reason = (command.args or "").strip().partition(" ")
    if not model:
        await send(message, t("admin.enable_usage"))
        return
    await _enable(message, services, t, model, reason.strip() or None)


async def markup(
    message: Message, command: CommandObject, *, services: Services, t: Texts
) -> None:
    args = (command.args or "").split()
    if len(args) != 2:
        await send(message, t("admin.markup_usage"))
        return
    await _markup(message, services, t, args[0], args[1])


async def maintenance(
    message: Message, command: CommandObject, *, services: Services, t: Texts
) -> None:
    switch, _, text = (command.args or "").strip().partition(" ")
    if switch not in ("on", "off"):
        await send(message, t("admin.maintenance_usage"))
        return
    assert message.from_user is not None  # the admin filter passed on it
    state = await services.controls.set_maintenance(
        switch == "on", message=text, actor=tg_actor(message.from_user.id)
    )
    if not state.on:
        await send(message, t("admin.maintenance_off"))
        return
    shown = state.message or t("other.maintenance")
    await send(message, t("admin.maintenance_on", message=shown))


async def prompt_answered(
    message: Message, kind: str, model: str, *, services: Services, t: Texts
) -> None:
    answer = (message.text or "").strip()
    if kind == "⛔":
        await _disable(message, services, t, model, answer)
    else:
        await _markup(message, services, t, model, answer)


async def card_button(
    query: CallbackQuery, callback_data: AdminModelCb, *, services: Services,
    catalog: Catalog, t: Texts,
) -> None:  # fmt: skip
    spec = catalog.any_by_ref(callback_data.model)
    message = query.message
    await query.answer()
    if spec is None or not isinstance(message, Message):
        return
    if callback_data.act is AdminAct.ENABLE:
        await _enable(message, services, t, spec.id, None, actor=query.from_user.id)
        return
    key = "admin.disable_ask" if callback_data.act is AdminAct.DISABLE else "admin.markup_ask"
    await message.answer(t(key, model=spec.id), reply_markup=ForceReply(selective=True))


async def _disable(
    message: Message, services: Services, t: Texts, model: str, reason: str
) -> None:
    actor = _actor(message)
    try:
        done = await services.controls.disable(model, reason=reason, actor=actor)
    except TrtError as exc:
        await send(message, t("admin.refused", problem=exc.message))
        return
    await send(message, t("admin.disabled", model=done.model_id, reason=done.reason or ""))


async def _enable(
    message: Message, services: Services, t: Texts, model: str, reason: str | None,
    *, actor: int | None = None,
) -> None:  # fmt: skip
    who = tg_actor(actor) if actor is not None else _actor(message)
    try:
        done = await services.controls.enable(model, reason=reason, actor=who)
    except TrtError as exc:
        await send(message, t("admin.refused", problem=exc.message))
        return
    await send(message, t("admin.enabled", model=done.model_id))


async def _markup(message: Message, services: Services, t: Texts, model: str, value: str) -> None:
    try:
        factor = None if value.lower() in RESET_WORDS else parse_markup(value)
        done = await services.controls.set_markup(model, factor, actor=_actor(message))
    except TrtError as exc:
        await send(message, t("admin.refused", problem=exc.message))
        return
    if done.markup is None:
        await send(message, t("admin.markup_reset", model=done.model_id))
    else:
        await send(message, t("admin.markup_set", model=done.model_id, markup=done.markup))


async def _show_controls(
    message: Message, services: Services, catalog: Catalog, spec: ModelSpec, t: Texts
) -> None:
    controls = services.controls
    off = controls.disabled(spec.id)
    own = controls.markup(spec.id)
    state = t("admin.model_off", reason=off.reason or "") if off else t("admin.model_on")
    shown = (t("admin.markup_own", markup=own) if own is not None
             else t("admin.markup_global", markup=catalog.pricing.markup))  # fmt: skip
    body = t.markup(
        "admin.model", model=escape(spec.id), title=escape(title(spec, t.lang)),
        state=state, markup=shown, price=catalog.price_range(spec)[0],
    )  # fmt: skip
    buttons = keyboards.with_admin_controls(
        t, keyboards.home(t), ref(spec.id), disabled=off is not None
    )
    await send(message, body, buttons)


def _actor(message: Message) -> str:
    assert message.from_user is not None  # admins' messages only
    return tg_actor(message.from_user.id)
