"""Results and notices to Telegram: the `Messenger` port over aiogram.

Delivery rule (DESIGN.md): send by URL; if Telegram cannot fetch it, download and upload
(up to 50 MB); otherwise send a link. The file_id Telegram returns is kept for re-sending.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)

from trt.bot import keyboards
from trt.bot.alerts import FailureBurst
from trt.bot.labels import key_params
from trt.bot.progress import ACTIONS, Throttle, status_text
from trt.bot.texts import (
    CAPTION_LIMIT,
    Texts,
    clip,
    failure_reason,
    language_of,
    text,
)
from trt.bot.texts import markup as trusted_text
from trt.bot.wizard.form import prompt_input
from trt.catalog.registry import Registry
from trt.core.ports import DeliveryFailed
from trt.domain import JobState
from trt.errors import ModelNotFound
from trt.logs import log_event
from trt.records import JobRecord, RefundNotice

logger = logging.getLogger(__name__)

UPLOAD_LIMIT = 50 * 1024 * 1024
Caption = tuple[str, InlineKeyboardMarkup | None]
# What a notice may meet; the bot's session has already waited out 429s (trt.bot.flood).
NOT_SHOWN = (TelegramForbiddenError, TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter)
SENDERS = {"image": "send_photo", "video": "send_video", "audio": "send_audio"}
ALBUM_MEDIA = {"image": InputMediaPhoto, "video": InputMediaVideo, "audio": InputMediaAudio}
ALBUM_LIMIT = 10  # items Telegram takes in one media group


class TelegramMessenger:
    """Calls the bot directly: pacing, 429 retries and marking users who blocked the bot
    happen on the bot's session."""

    def __init__(
        self,
        bot: Bot,
        *,
        registry: Registry,
        admin_ids: frozenset[int],
        languages: Callable[[int], Awaitable[str | None]],
        emulator: bool,
        burst: FailureBurst | None = None,
    ) -> None:
        self.bot = bot
        self.registry = registry
        self.admin_ids = admin_ids
        self._languages = languages
        self.emulator = emulator
        self.burst = burst or FailureBurst()
        self.throttle = Throttle()

    async def deliver(
        self, job: JobRecord, *, free: bool = False, returned: int = 0
    ) -> str | None:
        assert job.chat_id is not None
        lang = language_of(await self._languages(job.user_id))
        caption = self._full_caption(job, lang, free, returned)
        kind = self._output(job)
        async with _delivery_failures():
            return await self._deliver(job, job.chat_id, kind, caption, lang)

    async def resend(self, job: JobRecord, chat_id: int, *, free: bool = False) -> None:
        """The result once more (support's retry-delivery, or the user from history), with
        the caption it was delivered with: the stored file_id while Telegram keeps it (one
        result), else the result URLs. Raises: DeliveryFailed."""
        lang = language_of(await self._languages(job.user_id))
        caption, kind = self._full_caption(job, lang, free, 0), self._output(job)
        method = SENDERS.get(kind)
        async with _delivery_failures():
            if job.result_file_id and method and len(job.result_urls) <= 1:
                await self._send(chat_id, method, job.result_file_id, caption)
            elif job.result_urls:
                await self._deliver(job, chat_id, kind, caption, lang)
            else:
                raise DeliveryFailed("the job has no result to send", final=True)
        logger.info("job %s result sent again to chat %s", job.id, chat_id)

    def _full_caption(self, job: JobRecord, lang: str, free: bool, returned: int) -> Caption:
        markup = keyboards.result(Texts(lang), job.id, prompt=self._has_prompt(job))
        caption = self._caption(job, lang, free)
        if returned:  # fewer results than paid for: their share went back
            note = text(lang, "result.partial", stars=returned, count=len(job.result_urls))
            caption = clip(f"{caption}\n{note}", CAPTION_LIMIT)
        return caption, markup

    async def _deliver(
        self, job: JobRecord, chat_id: int, kind: str, caption: Caption, lang: str
    ) -> str | None:
        """One result as one message; several as one album with one caption, and one
        message with the buttons (an album carries none)."""
        urls = job.result_urls
        if len(urls) > 1 and kind in ALBUM_MEDIA and len(urls) <= ALBUM_LIMIT:
            try:
                return await self._album(chat_id, kind, urls, caption, lang)
            except TelegramBadRequest as exc:  # Telegram could not fetch a URL
                _fallback(job, f"album of {kind} by URL refused ({exc.message}): one by one")
        file_id = None
        last = len(urls) - 1
        for i, url in enumerate(urls):  # the caption once, the buttons on the last
            part = (caption[0] if i == 0 else "", caption[1] if i == last else None)
            file_id = await self._one(job, chat_id, kind, url, part, lang=lang) or file_id
        return file_id

    async def _album(
        self, chat_id: int, kind: str, urls: tuple[str, ...], caption: Caption, lang: str
    ) -> str | None:
        media_type = ALBUM_MEDIA[kind]
        items = [media_type(media=url, caption=caption[0] if i == 0 else None)
                 for i, url in enumerate(urls)]  # fmt: skip
        sent = await self.bot.send_media_group(chat_id, media=items)
        await self._send_text(chat_id, text(lang, "result.album", count=len(urls)), caption[1])
        return _file_id(sent[0]) if sent else None

    async def _one(
        self, job: JobRecord, chat_id: int, kind: str, url: str, caption: Caption, *, lang: str
    ) -> str | None:
        method = SENDERS.get(kind)
        if method is None:
            await self._send_text(
                chat_id, f"{caption[0]}\n{text(lang, 'result.link', url=url)}", caption[1]
            )
            return None
        try:
            return _file_id(await self._send(chat_id, method, url, caption))
        except TelegramBadRequest as exc:  # Telegram could not fetch or use the URL
            _fallback(job, f"{kind} by URL refused ({exc.message}): uploading it")
        content = await self._download(url)
        if content is None:
            _fallback(job, f"{kind} could not be downloaded or is over 50 MB: sent as a link")
            await self._send_text(
                chat_id, f"{caption[0]}\n{text(lang, 'result.link', url=url)}", caption[1]
            )
            return None
        upload = BufferedInputFile(content, filename=url.rsplit("/", 1)[-1] or "result")
        return _file_id(await self._send(chat_id, method, upload, caption))

    async def _send(self, chat_id: int, method: str, media: Any, caption: Caption) -> Message:
        field = {"send_photo": "photo", "send_video": "video", "send_audio": "audio"}[method]
        call = getattr(self.bot, method)
        body, markup = caption
        message: Message = await call(
            chat_id=chat_id, caption=body, reply_markup=markup, **{field: media}
        )
        return message

    async def _send_text(self, chat_id: int, body: str, markup: Any = None) -> None:
        await self.bot.send_message(chat_id, body, reply_markup=markup)

    async def _download(self, url: str) -> bytes | None:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
            if response.status != 200 or (response.content_length or 0) > UPLOAD_LIMIT:
                return None
            content = await response.content.read(UPLOAD_LIMIT + 1)
            return content if len(content) <= UPLOAD_LIMIT else None

    async def tell_failure(self, job: JobRecord) -> None:
        assert job.chat_id is not None
        lang = language_of(await self._languages(job.user_id))
        reason = failure_reason(lang, job.error)
        body = trusted_text(lang, "result.failed", reason=reason, price=job.price_stars)  # escaped
        try:
            await self._send_text(job.chat_id, body, keyboards.failure(Texts(lang), job.id))
        except NOT_SHOWN as exc:
            logger.warning("could not tell user %s about job %s: %s", job.user_id, job.id, exc)
        burst = self.burst.record(job)
        if burst is not None:
            log_event(
                logger, "failure_burst", level=logging.WARNING, job_id=job.id,
                user_id=job.user_id, model=job.model_id, reason=job.error,
                failed=self.burst.count, minutes=f"{self.burst.window / 60:g}",
            )  # fmt: skip
            await self.alert_admins(burst)

    async def tell_refund(self, notice: RefundNotice) -> bool:
        lang = language_of(await self._languages(notice.user_id))
        if notice.job is not None:
            body = text(lang, "notice.job_refunded", stars=notice.stars, balance=notice.balance,
                        title=self._title(notice.job, lang))  # fmt: skip
        else:
            body = text(lang, "payment.refunded", charge=notice.charge_id or "",
                        amount=notice.stars, balance=notice.balance)  # fmt: skip
        try:
            await self._send_text(notice.user_id, body)
        except NOT_SHOWN as exc:
            logger.warning("could not tell user %s about a refund: %s", notice.user_id, exc)
            return False
        return True

    async def progress(self, job: JobRecord) -> None:
        if job.chat_id is None or job.status_message_id is None or not self.throttle.due(job):
            return
        chat_id, message_id = job.chat_id, job.status_message_id
        t = Texts(language_of(await self._languages(job.user_id)))
        body = status_text(t, job, self._title(job, t.lang))
        try:
            await self.bot.edit_message_text(body, chat_id=chat_id, message_id=message_id)
            if job.state in (JobState.SUBMITTED, JobState.RUNNING):
                action = ACTIONS.get(self._output(job), "typing")
                await self.bot.send_chat_action(chat_id, action)
        except NOT_SHOWN as exc:
            logger.info("status of job %s not shown: %s", job.id, exc)

    async def alert_admins(self, message: str) -> None:
        for admin in sorted(self.admin_ids):
            try:
                await self._send_text(admin, f"⚠️ {message}")
            except NOT_SHOWN as exc:
                logger.warning("admin alert to %s failed: %s", admin, exc)

    def _output(self, job: JobRecord) -> str:
        try:
            return self.registry.get(job.model_id).output.value
        except ModelNotFound:
            return "document"

    def _title(self, job: JobRecord, lang: str) -> str:
        try:
            return str(getattr(self.registry.get(job.model_id).title, lang))
        except ModelNotFound:
            return job.model_id

    def _has_prompt(self, job: JobRecord) -> bool:
        return job.model_id in self.registry and bool(
            prompt_input(self.registry.get(job.model_id))
        )

    def _caption(self, job: JobRecord, lang: str, free: bool) -> str:
        params = ""
        if job.model_id in self.registry:
            params = key_params(self.registry.get(job.model_id), job.params, Texts(lang))
        key = "result.caption_free" if free else "result.caption"
        caption = text(lang, key, title=self._title(job, lang), params=params,
                       price=job.price_stars)  # fmt: skip
        caption = f"{caption}\n{text(lang, 'result.emulator')}" if self.emulator else caption
        return clip(caption, CAPTION_LIMIT)


def _fallback(job: JobRecord, reason: str) -> None:
    log_event(
        logger, "delivery_fallback", job_id=job.id, user_id=job.user_id, model=job.model_id,
        reason=reason,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def _delivery_failures() -> AsyncIterator[None]:
    """Telegram's and the network's errors while sending a result, as DeliveryFailed."""
    try:
        yield
    except TelegramForbiddenError as exc:
        raise DeliveryFailed(f"user blocked the bot: {exc.message}", final=True) from None
    except (
        TelegramNetworkError, TelegramBadRequest, TelegramRetryAfter, aiohttp.ClientError
    ) as exc:  # fmt: skip
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None


def _file_id(message: Message) -> str | None:
    for media in (message.video, message.audio, message.document):
        if media is not None:
            return media.file_id
    return message.photo[-1].file_id if message.photo else None
