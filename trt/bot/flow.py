"""Moving a form along: save it, then show the screen its state calls for."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.context import FSMContext

from trt.bot.catalog import Catalog
from trt.bot.form import Form
from trt.bot.reply import Target, show
from trt.bot.texts import Texts
from trt.bot.wizard import Next, confirm_screen, conflict_text, save, settings_screen, step_screen
from trt.catalog.spec import ModelSpec
from trt.core.services import Services
from trt.errors import InvalidParameters
from trt.records import UserRecord


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
        await save(ctx.state, form)
        await show(target, *step_screen(ctx.t, ctx.catalog, spec, form, inp))
        return
    if after is Next.SETTINGS:
        await save(ctx.state, form)
        await show(target, *settings_screen(ctx.t, spec, form))
        return
    try:
        screen = await confirm_screen(ctx.t, ctx.services, spec, form, ctx.user)
    except InvalidParameters as exc:  # a combination the model refuses: fix it in settings
        await save(ctx.state, form)
        body, markup = settings_screen(ctx.t, spec, form)
        await show(target, f"{conflict_text(ctx.t, exc)}\n\n{body}", markup)
        return
    await save(ctx.state, form)
    await show(target, *screen)
