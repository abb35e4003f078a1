""" "Generate": hold exactly the price shown, upload the files, submit; one job per form."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from trt.bot import progress
from trt.bot.alerts import CreditWatch
from trt.bot.callbacks import GenAct, GenCb, Screen
from trt.bot.catalog import Catalog
from trt.bot.labels import title
from trt.bot.navigation import open_screen, outdated
from trt.bot.texts import Texts
from trt.bot.wizard.flow import Ctx, Next, load, proceed, save
from trt.bot.wizard.form import Form
from trt.core.generation import MediaFile, Quote
from trt.core.services import Services
from trt.domain import JobState
from trt.errors import KieError
from trt.logs import log_event
from trt.records import JobRecord, UserRecord

logger = logging.getLogger(__name__)

STARTING = "starting"  # form.job while the first press is being handled
QUEUED = frozenset({JobState.QUOTED, JobState.HELD, JobState.SUBMITTING})  # the text sent


async def generate(
    query: CallbackQuery, callback_data: GenCb, *, bot: Bot, services: Services,
    catalog: Catalog, user: UserRecord, t: Texts, state: FSMContext, credit_watch: CreditWatch,
) -> None:  # fmt: skip
    """A press, or its replay after a crash (the same update processed again): the press's
    request key makes it one job and one hold, and the form keeps its one status message."""
    ctx = Ctx(services, catalog, user, t, state)
    form = await load(state)
    message = query.message
    if form is None or form.nonce != callback_data.form or not isinstance(message, Message):
        await outdated(query, services, catalog, user, t)
        return
    if callback_data.act is GenAct.TOPUP:
        await open_screen(query, Screen.TOPUP, services=services, catalog=catalog, user=user, t=t)
        return
    if form.job not in (None, STARTING):  # a second press: the first one's job is the only one
        await query.answer(t("confirm.already"))
        return
    spec = services.registry.get(form.model)
    quote = services.generation.quote(spec.id, form.raw(spec))
    if quote.stars != form.price:  # prices changed since the screen was drawn: show again
        await proceed(query, ctx, spec, form, Next.CONFIRM)
        return
    with contextlib.suppress(TelegramBadRequest):  # a replayed query may be too old
        await query.answer()
    with contextlib.suppress(TelegramBadRequest):  # a replay finds the buttons gone
        await message.edit_reply_markup(reply_markup=None)
    if form.job is None:
        form.job = STARTING
        await save(state, form)
    await _start(message, ctx, quote, form, bot)
    await _check_credits(services, credit_watch)


async def _check_credits(services: Services, watch: CreditWatch) -> None:
    """Ask KIE for the operator's credits now and then; alert the admins once when low."""
    if not watch.due():
        return
    try:
        credits = await services.kie.credits()
    except KieError as exc:
        logger.warning("KIE credits unavailable: %s", exc)
        return
    alert = watch.observe(credits)
    if alert is not None:
        log_event(
            logger, "kie_credits_low", level=logging.WARNING, credits=credits,
            threshold=watch.threshold, reason="KIE credits under LOW_KIE_CREDITS_ALERT",
        )  # fmt: skip
        await services.generation.messenger.alert_admins(alert)


async def _start(message: Message, ctx: Ctx, quote: Quote, form: Form, bot: Bot) -> None:
    """Start the job at `quote`, the price the user confirmed (quoting again here could
    meet a markup another instance changed meanwhile)."""
    services, user, chat_id = ctx.services, ctx.user, message.chat.id
    spec = quote.spec
    if form.status is None:  # a replay after a crash keeps the status message it sent
        status = await message.answer(ctx.t("progress.queued", title=title(spec, ctx.t.lang)))
        form.status = status.message_id
        await save(ctx.state, form)
    try:
        job = await services.generation.start(
            user.id, quote, chat_id=chat_id, request_key=f"tg:{user.id}:{form.nonce}",
            media=await _download(bot, form), free_tier=True,
        )  # fmt: skip
    except BaseException:
        status_id, form.job, form.status = form.status, None, None  # the user may press again
        await save(ctx.state, form)
        with contextlib.suppress(TelegramBadRequest):
            await bot.delete_message(chat_id=chat_id, message_id=status_id)
        raise
    form.job = job.id
    await save(ctx.state, form)
    await services.store.jobs.set_status_message(job.id, form.status)
    await _show_progress(services, job, bot, (chat_id, form.status), ctx.t)


async def _download(bot: Bot, form: Form) -> dict[str, list[MediaFile]]:
    """The user's files, fetched from Telegram only now (the file URL holds the bot token)."""
    files: dict[str, list[MediaFile]] = {}
    for name, items in form.media.items():
        for item in items:
            content = await bot.download(item.file_id)
            assert content is not None
            files.setdefault(name, []).append(
                MediaFile.addressed(item.name, content.read(), item.mime)
            )
    return files


async def _show_progress(
    services: Services, job: JobRecord, bot: Bot, status: tuple[int, int], t: Texts
) -> None:
    """The job may have moved on while the status message was being linked: show now."""
    job = await services.store.jobs.get(job.id)
    spec_title = title(services.registry.get(job.model_id), t.lang)
    body = progress.status_text(t, job, spec_title)
    if body is not None and job.state not in QUEUED:
        chat_id, message_id = status
        with contextlib.suppress(TelegramBadRequest):  # the same text already: not modified
            await bot.edit_message_text(text=body, chat_id=chat_id, message_id=message_id)
