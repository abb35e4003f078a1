"""Moving a form along: where it goes next, saving it, and showing the screen it calls for.

Which screen comes next is decided by the form alone (`Form.step`, `next_step`), so a
restart between two messages continues exactly where the user was.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup

from trt.bot.catalog import Catalog
from trt.bot.reply import Target, retire, show
from trt.bot.screens import Screen
from trt.bot.storage import save_form
from trt.bot.texts import Texts
from trt.bot.wizard.form import Form, next_step
from trt.bot.wizard.screens import confirm_screen, conflict_text, settings_screen, step_screen
from trt.catalog.spec import ModelSpec
from trt.core.services import Services
from trt.errors import InvalidParameters
from trt.records import UserRecord


class Flow(StatesGroup):
    asking = State()  # a step waits for the user's answer (text, number or file)
    reviewing = State()  # the settings or the confirmation screen is shown


async def load(state: FSMContext) -> Form | None:
    return Form.from_data(await state.get_data())


async def save(state: FSMContext, form: Form) -> None:
    await save_form(state, Flow.asking if form.step else Flow.reviewing, form.to_data())


class Next(StrEnum):
    STEP = "step"
    SETTINGS = "settings"
    CONFIRM = "confirm"


def advance(spec: ModelSpec, form: Form) -> Next:
    """After an answer: the next missing required input, else settings or confirmation."""
    if form.editing:
        form.step, form.editing = None, False
        return Next.SETTINGS
    missing = next_step(spec, form)
    form.step = missing.name if missing else None
    return Next.STEP if missing else Next.CONFIRM


@dataclass(frozen=True)
class Ctx:
    """What every wizard handler gets from the dispatcher, in one place."""

    services: Services
    catalog: Catalog
    user: UserRecord
    t: Texts
    state: FSMContext


async def proceed(target: Target, ctx: Ctx, spec: ModelSpec, form: Form, after: Next) -> None:
    """Save the form and show its next screen (the step when one is pending)."""
    if form.step is not None:
        inp = spec.input(form.step)
        assert inp is not None
        await _show(target, ctx, form, step_screen(ctx.t, ctx.catalog, spec, form, inp))
        return
    if after is Next.SETTINGS:
        await _show(target, ctx, form, settings_screen(ctx.t, spec, form))
        return
    try:
        screen = await confirm_screen(ctx.t, ctx.services, spec, form, ctx.user)
    except InvalidParameters as exc:  # a combination the model refuses: fix it in settings
        body, markup = settings_screen(ctx.t, spec, form)
        await _show(
            target, ctx, form, (f"{conflict_text(ctx.t, spec, form, exc)}\n\n{body}", markup)
        )
        return
    await _show(target, ctx, form, screen)


async def _show(target: Target, ctx: Ctx, form: Form, screen: Screen) -> None:
    """Save, show, and when the screen moved to a new message, retire the old one."""
    await save(ctx.state, form)
    shown = await show(target, *screen)
    if shown is not None and shown.message_id != form.screen:
        await retire(shown, form.screen)
        form.screen = shown.message_id
        await save(ctx.state, form)
