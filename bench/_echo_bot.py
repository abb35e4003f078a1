"""The bare aiogram webhook bot the bot benchmarks compare with; it imports aiogram alone.

python -m bench._echo_bot PORT API_BASE_URL   (token in $BOT_TOKEN)
"""

from __future__ import annotations

import os
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

HOST = "127.0.0.1"
WEBHOOK_TOKEN = "bench-secret-token"  # as bench/_servers.py sends it


def main(port: int, api_base_url: str) -> None:
    """A bare aiogram webhook bot: a message is echoed with one button; a press is
    answered and its message edited. No database, no pacing: the floor to compare with."""
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=AiohttpSession(api=TelegramAPIServer.from_base(api_base_url)),
    )
    dp = Dispatcher()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="🖼 Images", callback_data="x")]]
    )

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?", reply_markup=markup)

    @dp.callback_query()
    async def press(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text("pressed", reply_markup=markup)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/health", health)
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=WEBHOOK_TOKEN).register(
        app, path="/webhook"
    )
    web.run_app(app, host=HOST, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
