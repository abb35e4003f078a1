"""The aiogram Bot, pointed at Telegram or at TELEGRAM_API_BASE_URL (a self-hosted Bot API
server or the emulator), with flood control on its session."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from trt.bot.answers import AnswerOnce
from trt.bot.flood import FloodControl
from trt.bot.sender import Sender

__all__ = ["Bot", "make_bot"]


def make_bot(token: str, *, api_base_url: str, sender: Sender | None = None) -> Bot:
    """A bot sending HTML-formatted messages whose every call is paced by `sender` (the
    default keeps under Telegram's limits); close it with `await bot.session.close()`."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base_url))
    # First, so outermost: it runs in the handler's context (the pacing may not), and a
    # skipped answer is never paced.
    session.middleware(AnswerOnce())
    session.middleware(FloodControl(sender))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
