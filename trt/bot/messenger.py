"""Results and notices to Telegram: the `Messenger` port over aiogram.

Delivery rule (DESIGN.md): send by URL; if Telegram cannot fetch it, download and upload
(up to 50 MB); otherwise send a link. The file_id Telegram returns is kept for re-sending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError
from aiogram.types import BufferedInputFile, Message

from trt.bot.sender import Sender
from trt.bot.texts import failure_reason, language_of, text
from trt.catalog.registry import Registry
from trt.core.ports import DeliveryFailed
from trt.errors import ModelNotFound
from trt.store.base import JobRecord

logger = logging.getLogger(__name__)

UPLOAD_LIMIT = 50 * 1024 * 1024
SENDERS = {"image": "send_photo", "video": "send_video", "audio": "send_audio"}


class TelegramMessenger:
    def __init__(
        self,
        bot: Bot,
        *,
        registry: Registry,
        admin_ids: frozenset[int],
        languages: Callable[[int], Awaitable[str | None]],
        emulator: bool,
        sender: Sender | None = None,
    ) -> None:
        self.bot = bot
        self.registry = registry
        self.admin_ids = admin_ids
        self._languages = languages
        self.emulator = emulator
        self.sender = sender or Sender()

    async def deliver(self, job: JobRecord) -> str | None:
        assert job.chat_id is not None
        lang = language_of(await self._languages(job.user_id))
        caption = self._caption(job, lang)
        kind = self._output(job)
        try:
            return await self._deliver(job.chat_id, kind, job.result_urls, caption, lang)
        except TelegramForbiddenError as exc:
            raise DeliveryFailed(f"user blocked the bot: {exc.message}", final=True) from None
        except (TelegramNetworkError, TelegramBadRequest, aiohttp.ClientError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None

    async def _deliver(
        self, chat_id: int, kind: str, urls: tuple[str, ...], caption: str, lang: str
    ) -> str | None:
        file_id = None
        for url in urls:
            file_id = await self._one(chat_id, kind, url, caption, lang) or file_id
        return file_id

    async def _one(self, chat_id: int, kind: str, url: str, caption: str, lang: str) -> str | None:
        method = SENDERS.get(kind)
        if method is None:
            await self._send_text(chat_id, f"{caption}\n{text(lang, 'link', url=url)}")
            return None
        try:
            return _file_id(await self._send(chat_id, method, url, caption))
        except TelegramBadRequest as exc:  # Telegram could not fetch or use the URL
            logger.info("sending %s by URL failed (%s); uploading it", kind, exc.message)
        content = await self._download(url)
        if content is None:
            await self._send_text(chat_id, f"{caption}\n{text(lang, 'link', url=url)}")
            return None
        upload = BufferedInputFile(content, filename=url.rsplit("/", 1)[-1] or "result")
        return _file_id(await self._send(chat_id, method, upload, caption))

    async def _send(self, chat_id: int, method: str, media: Any, caption: str) -> Message:
        field = {"send_photo": "photo", "send_video": "video", "send_audio": "audio"}[method]
        call = getattr(self.bot, method)
        message: Message = await self.sender.call(
            chat_id, lambda: call(chat_id=chat_id, caption=caption, **{field: media})
        )
        return message

    async def _send_text(self, chat_id: int, body: str) -> None:
        await self.sender.call(chat_id, lambda: self.bot.send_message(chat_id, body))

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
        body = text(lang, "failed", reason=failure_reason(lang, job.error), price=job.price_stars)
        try:
            await self._send_text(job.chat_id, body)
        except (TelegramForbiddenError, TelegramBadRequest, TelegramNetworkError) as exc:
            logger.warning("could not tell user %s about job %s: %s", job.user_id, job.id, exc)

    async def alert_admins(self, message: str) -> None:
        for admin in sorted(self.admin_ids):
            try:
                await self._send_text(admin, f"⚠️ {message}")
            except (TelegramForbiddenError, TelegramBadRequest, TelegramNetworkError) as exc:
                logger.warning("admin alert to %s failed: %s", admin, exc)

    def _output(self, job: JobRecord) -> str:
        try:
            return self.registry.get(job.model_id).output.value
        except ModelNotFound:
            return "document"

    def _caption(self, job: JobRecord, lang: str) -> str:
        try:
            title = getattr(self.registry.get(job.model_id).title, lang)
        except ModelNotFound:
            title = job.model_id
        caption = text(lang, "caption", title=title, price=job.price_stars)
        return f"{caption}\n{text(lang, 'emulator')}" if self.emulator else caption


def _file_id(message: Message) -> str | None:
    for media in (message.video, message.audio, message.document):
        if media is not None:
            return media.file_id
    return message.photo[-1].file_id if message.photo else None
