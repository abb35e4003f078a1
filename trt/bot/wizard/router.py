"""The parameter wizard's router: start a model's form, answer steps by button, text or
file, and press "Generate" (its handler is in `generate`)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from trt.bot import media
from trt.bot.answers import ANSWERS_ITSELF
from trt.bot.callbacks import GenCb, StepAct, StepCb, UseCb
from trt.bot.catalog import Catalog
from trt.bot.filters import Magic
from trt.bot.navigation import outdated
from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.bot.wizard import generate, steps
from trt.bot.wizard.flow import Ctx, Flow, advance, load, proceed
from trt.bot.wizard.form import Form
from trt.catalog.params import FieldError, coerce_value, length_limit
from trt.core.services import Services
from trt.records import UserRecord

FILES = F.photo | F.document | F.video | F.audio | F.voice | F.video_note | F.animation


def make_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(use_model, UseCb.filter())
    router.callback_query.register(step_button, StepCb.filter())
    asking = StateFilter(Flow.asking)
    router.message.register(typed, asking, Magic(F.text & ~F.text.startswith("/")))
    router.message.register(file, asking, Magic(FILES))
    router.message.register(other, asking, Magic(~F.text))
    router.callback_query.register(generate.generate, GenCb.filter(), flags={ANSWERS_ITSELF: True})
    return router


async def use_model(
    query: CallbackQuery, callback_data: UseCb, *, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts, state: FSMContext,
) -> None:  # fmt: skip
    spec = catalog.by_ref(callback_data.model)
    if spec is None:
        await outdated(query, services, catalog, user, t)
        return
    form = Form(model=spec.id)
    await proceed(query, Ctx(services, catalog, user, t, state), spec, form, advance(spec, form))


async def step_button(
    query: CallbackQuery, callback_data: StepCb, *, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts, state: FSMContext,
) -> None:  # fmt: skip
    ctx = Ctx(services, catalog, user, t, state)
    form = await load(state)
    spec = services.registry.get(form.model) if form and form.model in services.registry else None
    if form is None or spec is None or form.nonce != callback_data.form:
        await outdated(query, services, catalog, user, t)
        return
    if callback_data.act is StepAct.CANCEL:
        await steps.cancel(query, ctx)
        return
    await steps.ACTIONS[callback_data.act](query, ctx, spec, form, callback_data)


async def typed(
    message: Message, *, services: Services, catalog: Catalog, user: UserRecord, t: Texts,
    state: FSMContext,
) -> None:  # fmt: skip
    current = await steps.current(state, services)
    if current is None:
        await state.clear()
        return
    spec, form, inp = current
    if inp.is_media:
        await steps.hint(message, t, catalog, (spec, form, inp))
        return
    try:
        value = coerce_value(inp, (message.text or "").strip())
    except FieldError:
        await send(message, steps.wrong_value(t, inp, message.text or ""))
        return
    limit = length_limit(spec, inp, form.raw(spec))
    if isinstance(value, str) and limit is not None and len(value) > limit:  # a rule's limit
        await send(message, t("wrong.too_long", length=len(value), max=limit))
        return
    after = steps.answer(spec, form, inp.name, value)
    await proceed(message, Ctx(services, catalog, user, t, state), spec, form, after)


async def file(
    message: Message, *, services: Services, catalog: Catalog, user: UserRecord, t: Texts,
    state: FSMContext,
) -> None:  # fmt: skip
    current = await steps.current(state, services)
    item = media.received(message)
    if current is None or item is None:
        await state.clear()
        return
    spec, form, inp = current
    if not inp.is_media:
        await steps.hint(message, t, catalog, (spec, form, inp))
        return
    problem = media.check(inp, item)
    if problem is not None:
        values = {k: t(str(v)) if k == "what" else v for k, v in problem.values.items()}
        await send(message, t(problem.key, **values))
        return
    ctx = Ctx(services, catalog, user, t, state)
    await steps.add_file(message, ctx, (spec, form, inp), item)


async def other(
    message: Message, *, services: Services, catalog: Catalog, t: Texts, state: FSMContext
) -> None:
    """A sticker, a location…: repeat what is asked."""
    current = await steps.current(state, services)
    if current is not None:
        await steps.hint(message, t, catalog, current)
