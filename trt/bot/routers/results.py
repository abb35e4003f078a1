"""Buttons under results and in history: repeat, change the prompt, send again."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from trt.bot import keyboards
from trt.bot.callbacks import ResultAct, ResultCb
from trt.bot.catalog import Catalog
from trt.bot.navigation import outdated, own_job
from trt.bot.reply import chat_message
from trt.bot.texts import Texts
from trt.bot.wizard.flow import Ctx, Next, advance, proceed
from trt.bot.wizard.form import MEDIA_PLACEHOLDER, Form, MediaItem, prompt_input
from trt.catalog.spec import ModelSpec
from trt.core.ports import DeliveryFailed
from trt.core.services import Services
from trt.records import JobRecord, UserRecord

MIME = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg"}


def make_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(result_button, ResultCb.filter())
    return router


async def result_button(
    query: CallbackQuery, callback_data: ResultCb, *, services: Services,
    catalog: Catalog, user: UserRecord, t: Texts, state: FSMContext,
) -> None:  # fmt: skip
    job = await own_job(services, user, callback_data.job)
    if job is None or job.model_id not in catalog.registry:
        await outdated(query, services, catalog, user, t)
        return
    spec = catalog.registry.get(job.model_id)
    if callback_data.act is ResultAct.RESEND:
        await query.answer()
        await resend(query, job, services, t)
        return
    form = form_from(job, spec)
    after = advance(spec, form)
    prompt = prompt_input(spec)
    if callback_data.act is ResultAct.PROMPT and prompt is not None:
        form.clear(prompt.name)
        form.step, after = prompt.name, Next.STEP
    await proceed(query, Ctx(services, catalog, user, t, state), spec, form, after)


def form_from(job: JobRecord, spec: ModelSpec) -> Form:
    """A new form holding the job's parameters (files as they were sent, or their URLs)."""
    form = Form(model=spec.id)
    for inp in spec.inputs:
        value: Any = job.params.get(inp.name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if inp.is_media and all(str(v).startswith(MEDIA_PLACEHOLDER) for v in values):
            kind = inp.type.value.rstrip("s")
            form.media[inp.name] = [
                MediaItem(str(v)[len(MEDIA_PLACEHOLDER) :], MIME[kind], 0, f"{kind}.bin")
                for v in values
            ]
        else:
            form.values[inp.name] = value
        if inp.required:
            form.answered.append(inp.name)
    return form


async def resend(query: CallbackQuery, job: JobRecord, services: Services, t: Texts) -> None:
    """The result again, captioned as it was delivered (its key parameters, the emulator's
    test-result note): the stored file_id, or the result URLs while they live."""
    message = chat_message(query)
    if message is None:
        return
    try:
        free = await services.generation.was_free(job)
        await services.generation.messenger.resend(job, message.chat.id, free=free)
    except DeliveryFailed:  # the file or URL is no longer there
        await message.answer(t("result.gone"), reply_markup=keyboards.home(t))
