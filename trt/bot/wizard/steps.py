"""What each wizard button and answer does to the form (the handlers stay thin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from trt.bot import screens
from trt.bot.callbacks import StepAct, StepCb
from trt.bot.catalog import Catalog
from trt.bot.navigation import outdated
from trt.bot.reply import Target, send, show
from trt.bot.texts import Texts
from trt.bot.wizard.flow import Ctx, Next, advance, load, proceed
from trt.bot.wizard.form import Form, MediaItem, needed, next_step
from trt.bot.wizard.screens import ask_body, presets
from trt.catalog.kinds import InputType
from trt.catalog.spec import InputSpec, ModelSpec
from trt.core.services import Services

Action = Callable[[CallbackQuery, Ctx, ModelSpec, Form, StepCb], Awaitable[None]]


async def current(
    state: FSMContext, services: Services
) -> tuple[ModelSpec, Form, InputSpec] | None:
    """The form, its model and the input being asked, when a step is pending."""
    form = await load(state)
    if form is None or form.step is None or form.model not in services.registry:
        return None
    spec = services.registry.get(form.model)
    inp = spec.input(form.step)
    return None if inp is None else (spec, form, inp)


def answer(spec: ModelSpec, form: Form, name: str, value: Any) -> Next:
    """Record a value; where the form goes next."""
    form.values[name] = value
    return _answered(spec, form, name)


def _answered(spec: ModelSpec, form: Form, name: str) -> Next:
    inp = spec.input(name)
    if inp is not None and needed(spec, form, inp) and name not in form.answered:
        form.answered.append(name)  # Back walks required steps in reverse
    return advance(spec, form)


async def hint(
    target: Message, t: Texts, catalog: Catalog, current: tuple[ModelSpec, Form, InputSpec]
) -> None:
    """A one-line reminder of what is asked (a photo where text is expected, and the reverse)."""
    spec, form, inp = current
    asked, _ = ask_body(t, catalog, spec, form, inp)
    if inp.is_media:
        await send(target, t("wrong.need_media", what=t(f"media.{inp.type.value}")))
    elif inp.type in (InputType.ENUM, InputType.BOOLEAN):
        await send(target, t.markup("wrong.need_choice", asked=asked))
    else:
        await send(target, t.markup("wrong.need_text", asked=asked))


def wrong_value(t: Texts, inp: InputSpec, text: str) -> str:
    if inp.type in (InputType.INTEGER, InputType.NUMBER):
        if inp.min is not None and inp.max is not None:
            return t("wrong.number", min=inp.min, max=inp.max)
        return t("wrong.number_open")
    if inp.type is InputType.TEXT:
        if inp.max_length and len(text) > inp.max_length:
            return t("wrong.too_long", length=len(text), max=inp.max_length)
        return t("wrong.too_short", length=len(text), min=inp.min_length or 1)
    return t("wrong.need_choice", asked="")


async def add_file(
    message: Message, ctx: Ctx, current: tuple[ModelSpec, Form, InputSpec], item: MediaItem
) -> None:
    spec, form, inp = current
    items = form.media.setdefault(inp.name, [])
    if not inp.is_list:
        form.media[inp.name] = [item]
    elif inp.max_items and len(items) >= inp.max_items:
        await send(message, ctx.t("wrong.too_many", max=inp.max_items))
        return
    else:
        items.append(item)
    full = not inp.is_list or (inp.max_items is not None and len(items) >= inp.max_items)
    after = _answered(spec, form, inp.name) if full else Next.STEP
    await proceed(message, ctx, spec, form, after)


async def cancel(target: Target, ctx: Ctx) -> None:
    await ctx.state.clear()
    body, markup = await screens.home(ctx.t, ctx.services, ctx.catalog, ctx.user)
    await show(target, f"{ctx.t('menu.cancelled')}\n\n{body}", markup)


async def _pick(query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb) -> None:
    inp = spec.input(cb.name)
    options = _options(inp) if inp is not None and form.step == cb.name else []
    if inp is None or not 0 <= cb.i < len(options):
        await _stale(query, ctx)
        return
    await proceed(query, ctx, spec, form, answer(spec, form, inp.name, options[cb.i]))


def _options(inp: InputSpec) -> list[Any]:
    if inp.type is InputType.ENUM:
        return list(inp.values or ())
    if inp.type is InputType.BOOLEAN:
        return [False, True]
    return list(presets(inp))


async def _done(query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb) -> None:
    if form.step != cb.name or not form.media.get(cb.name):
        await _stale(query, ctx)
        return
    await proceed(query, ctx, spec, form, _answered(spec, form, cb.name))


async def _back(query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb) -> None:
    if form.step is not None and form.editing:  # back from an optional setting
        form.step, form.editing = None, False
        await proceed(query, ctx, spec, form, Next.SETTINGS)
        return
    if not form.answered:  # back from the first step: the model's card
        await ctx.state.clear()
        await show(query, *screens.card(ctx.t, ctx.catalog, spec, 0, 0))
        return
    name = form.answered.pop()
    form.clear(name)
    form.step = name
    await proceed(query, ctx, spec, form, Next.STEP)


async def _reset(query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb) -> None:
    fresh = Form(model=spec.id)
    await proceed(query, ctx, spec, fresh, advance(spec, fresh))


async def _default(
    query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb
) -> None:
    form.clear(cb.name)
    form.step, form.editing = None, False
    await proceed(query, ctx, spec, form, Next.SETTINGS)


async def _edit(query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb) -> None:
    inp = spec.input(cb.name)
    if inp is None or inp.required:
        await _stale(query, ctx)
        return
    form.step, form.editing = inp.name, True
    await proceed(query, ctx, spec, form, Next.SETTINGS)


async def _settings(
    query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb
) -> None:
    form.step = None
    await proceed(query, ctx, spec, form, Next.SETTINGS)


async def _confirm(
    query: CallbackQuery, ctx: Ctx, spec: ModelSpec, form: Form, cb: StepCb
) -> None:
    missing = next_step(spec, form)
    form.step = missing.name if missing else None
    await proceed(query, ctx, spec, form, Next.CONFIRM)


async def _stale(query: CallbackQuery, ctx: Ctx) -> None:
    await outdated(query, ctx.services, ctx.catalog, ctx.user, ctx.t)


ACTIONS: dict[StepAct, Action] = {
    StepAct.PICK: _pick, StepAct.DONE: _done, StepAct.BACK: _back, StepAct.RESET: _reset,
    StepAct.DEFAULT: _default, StepAct.EDIT: _edit, StepAct.SETTINGS: _settings,
    StepAct.CONFIRM: _confirm,
}  # fmt: skip
