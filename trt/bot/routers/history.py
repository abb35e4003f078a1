"""/history: the user's jobs, newest first, a page at a time; open one to re-send or repeat."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from trt.bot import keyboards
from trt.bot.callbacks import HistoryOpenCb, HistoryPageCb
from trt.bot.catalog import Catalog
from trt.bot.keyboards import Markup
from trt.bot.labels import summary, title
from trt.bot.navigation import outdated, own_job
from trt.bot.reply import Target, show
from trt.bot.texts import Texts, clip
from trt.bot.wizard.form import prompt_input
from trt.core.services import Services
from trt.domain import JobId, JobState
from trt.records import JobFilter, JobRecord, UserRecord

PAGE = 8
PROMPT_CLIP = 24  # characters of the prompt on a history button (Telegram cuts long ones)
WITH_RESULT = (JobState.SUCCEEDED, JobState.DELIVERED)


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(history, Command("history"))
    router.callback_query.register(page, HistoryPageCb.filter())
    router.callback_query.register(open_job, HistoryOpenCb.filter())
    return router


async def history(message: Message, *, services: Services, user: UserRecord, t: Texts) -> None:
    await _page(message, services, user, t, HistoryPageCb(page=1))


async def page(
    query: CallbackQuery, callback_data: HistoryPageCb, *, services: Services, user: UserRecord,
    t: Texts,
) -> None:  # fmt: skip
    await _page(query, services, user, t, callback_data)


async def _page(
    target: Target, services: Services, user: UserRecord, t: Texts, cb: HistoryPageCb
) -> None:
    before = JobId(cb.before) if cb.before else None
    jobs = await services.store.jobs.find(
        JobFilter(user_id=user.id, before_id=before, limit=PAGE + 1)
    )
    if not jobs:
        await show(target, t("history.empty"), keyboards.home(t))
        return
    more = jobs[PAGE].id if len(jobs) > PAGE else None
    items = [(_line(services, j, t), j.id) for j in jobs[:PAGE]]
    cursor = jobs[PAGE - 1].id if more else None
    await show(
        target, t("history.title", page=cb.page), keyboards.history(t, items, cb.page, cursor)
    )


def _line(services: Services, job: JobRecord, t: Texts) -> str:
    """One button: when, what was asked (a short prompt), which model, how it ended."""
    known = job.model_id in services.registry
    name = title(services.registry.get(job.model_id), t.lang) if known else job.model_id
    when = job.created_at.strftime("%d.%m %H:%M")
    prompt = _prompt_of(services, job)
    values = {"when": when, "title": name, "state": t(f"state.{job.state.value}"),
              "price": job.price_stars}  # fmt: skip
    if prompt:
        return t("history.item_prompt", prompt=clip(" ".join(prompt.split()), PROMPT_CLIP),
                 **values)  # fmt: skip
    return t("history.item", **values)


def _prompt_of(services: Services, job: JobRecord) -> str:
    spec = services.registry.get(job.model_id) if job.model_id in services.registry else None
    inp = prompt_input(spec) if spec is not None else None
    value = job.params.get(inp.name if inp is not None else "prompt")
    return value if isinstance(value, str) else ""


async def open_job(
    query: CallbackQuery, callback_data: HistoryOpenCb, *, services: Services, catalog: Catalog,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    job = await own_job(services, user, callback_data.job)
    if job is None or job.model_id not in services.registry:
        await outdated(query, services, catalog, user, t)
        return
    await show(query, *detail(services, job, t))


def detail(services: Services, job: JobRecord, t: Texts) -> tuple[str, Markup]:
    spec = services.registry.get(job.model_id)
    body = t.markup(
        "history.detail", title=escape(title(spec, t.lang), quote=False),
        when=job.created_at.strftime("%Y-%m-%d %H:%M"), state=t(f"state.{job.state.value}"),
        price=job.price_stars, summary=summary(spec, job.params, t),
    )  # fmt: skip
    has_result = job.state in WITH_RESULT and bool(job.result_file_id or job.result_urls)
    return body, keyboards.history_item(t, job.id, resend=has_result)
