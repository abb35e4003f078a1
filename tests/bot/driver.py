"""A conversation-style driver: real Updates from the Telegram emulator, fed through the real
Dispatcher, with the bot's real aiogram client answering back into the emulator.

    tg = await driver.send("/start")      # the bot's reply
    await driver.click("🖼 Images")       # a button on the bot's latest message
    await driver.send_photo(png())
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher

from trt.core.services import Services
from trt.domain import EventSource, JobState
from trt.records import JobFilter, JobRecord
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import ChatMessage


def screen(message: ChatMessage) -> str:
    """A message as the user sees it: its text (or caption) and its buttons, row by row."""
    body = (
        message.text if message.text is not None else f"[{message.kind}] {message.caption or ''}"
    )
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    buttons = ["[" + "] [".join(b["text"] for b in row) + "]" for row in rows]
    return "\n".join([body, *buttons])


@dataclass
class Driver:
    tg: TelegramEmulator
    bot: Bot
    dp: Dispatcher
    services: Services
    user_id: int
    offset: int | None = None
    chat: Any = None
    seen: int = field(default=0)

    async def pump(self) -> None:
        """Feed every pending update through the dispatcher, in order."""
        while updates := await self.bot.get_updates(offset=self.offset, timeout=0):
            for update in updates:
                self.offset = update.update_id + 1
                await self.dp.feed_update(self.bot, update)

    async def send(self, text: str) -> ChatMessage:
        await self.tg.send_text(self.user_id, text, chat=self.chat)
        await self.pump()
        return self.last()

    async def send_file(self, kind: str, data: bytes, **details: Any) -> ChatMessage:
        await self.tg.send_file(self.user_id, kind, data, chat=self.chat, **details)
        await self.pump()
        return self.last()

    async def click(self, label: str, message: ChatMessage | None = None) -> ChatMessage:
        """Press the button labelled `label` (exactly, or as a prefix) on `message`/the last."""
        target = message or self.last_with_buttons()
        texts = [b.text for b in target.buttons()]
        name = label if label in texts else next((t for t in texts if t.startswith(label)), label)
        await self.tg.click(self.user_id, target.message_id, text=name, chat=self.chat)
        await self.pump()
        return self.last()

    async def press(self, data: str, message: ChatMessage | None = None) -> ChatMessage:
        """Send raw callback data (a forged or stale button)."""
        target = message or self.last()
        await self.tg.click(self.user_id, target.message_id, data, chat=self.chat, forge=True)
        await self.pump()
        return self.last()

    def history(self) -> list[ChatMessage]:
        return self.tg.chat(self.chat or self.user_id).bot_messages()

    def last(self) -> ChatMessage:
        return self.tg.chat(self.chat or self.user_id).last()

    def last_with_buttons(self) -> ChatMessage:
        return next(m for m in reversed(self.history()) if m.buttons())

    def new(self) -> list[str]:
        """Screens of bot messages sent or edited since the last call (for snapshots)."""
        messages = self.history()
        fresh = [m for m in messages if m.message_id > self.seen]
        self.seen = max((m.message_id for m in messages), default=self.seen)
        return [screen(m) for m in fresh]

    async def jobs(self) -> list[JobRecord]:
        return await self.services.store.jobs.find(JobFilter(user_id=self.user_id))  # type: ignore[arg-type]

    async def settle(self, job: JobRecord) -> JobRecord:
        """KIE answers: settle the job as a poll would (FakeKie's script decides how)."""
        job = await self.services.store.jobs.get(job.id)
        assert job.state in (JobState.SUBMITTED, JobState.RUNNING), job.state
        return await self.services.generation.refresh(job, source=EventSource.POLL)


async def open_model(d: Driver, section: str, model: str, start: str = "✨ Start") -> None:
    """/menu, a section, the model (paging until it shows), then ✨ Start."""
    await d.send("/menu")
    await d.click(section)
    while not any(b.text.startswith(model) for b in d.last().buttons()):
        await d.click("▶️")
    await d.click(model)
    await d.click(start)


async def generate_image(d: Driver, prompt: str = "a cat", lang: str = "en") -> None:
    """Nano Banana with `prompt`, confirmed: the job is held and submitted."""
    if lang == "ru":
        await open_model(d, "🖼 Изображения", "Nano Banana ·", "✨ Начать")
        await d.send(prompt)
        await d.click("🚀 Сгенерировать")
        return
    await open_model(d, "🖼 Images", "Nano Banana ·")
    await d.send(prompt)
    await d.click("🚀 Generate")
