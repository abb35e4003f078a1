"""The aiogram webhook bots the bot benchmarks compare with; they import aiogram and, when
recording, the database driver alone.

python -m bench._echo_bot PORT API_BASE_URL [STORE]   (token in $BOT_TOKEN)

Without STORE: the bare bot, which answers Telegram before anything else and stores nothing.
With STORE (an SQLite file path, or a postgresql:// DSN): the recording bot, the least a bot
that never loses or repeats an update must do: before Telegram gets its 200, the update's
id is inserted and committed in a table of its own (aiosqlite, WAL, one INSERT + COMMIT per
update; or one asyncpg INSERT, its own transaction); a repeated id is acknowledged and
ignored. Then it answers exactly like the bare bot.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Protocol

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

HOST = "127.0.0.1"
WEBHOOK_TOKEN = "bench-secret-token"  # as bench/_servers.py sends it
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TABLE = "bench_seen_updates"  # the recording bot's own table, beside trt's when they share


class Seen(Protocol):
    async def record(self, update_id: int) -> bool:
        """Store `update_id` durably; False when it was there already."""
        ...

    async def close(self) -> None: ...


class SqliteSeen:
    """One aiosqlite connection in WAL mode (as trt's), one transaction per update."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()  # one writer: an INSERT and its COMMIT are one update's

    @classmethod
    async def open(cls, path: str) -> SqliteSeen:
        import aiosqlite

        conn = await aiosqlite.connect(path, timeout=30)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (update_id INTEGER PRIMARY KEY)")
        await conn.commit()
        return cls(conn)

    async def record(self, update_id: int) -> bool:
        async with self.lock:
            cursor = await self.conn.execute(
                f"INSERT INTO {TABLE} (update_id) VALUES (?) ON CONFLICT DO NOTHING", (update_id,)
            )
            await self.conn.commit()
            return bool(cursor.rowcount == 1)

    async def close(self) -> None:
        await self.conn.close()


class PostgresSeen:
    """An asyncpg pool (trt's size), one autocommitted INSERT per update."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresSeen:
        import asyncpg  # type: ignore[import-untyped]

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        await pool.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (update_id BIGINT PRIMARY KEY)")
        return cls(pool)

    async def record(self, update_id: int) -> bool:
        status = await self.pool.execute(
            f"INSERT INTO {TABLE} (update_id) VALUES ($1) ON CONFLICT DO NOTHING", update_id
        )
        return bool(status == "INSERT 0 1")

    async def close(self) -> None:
        await self.pool.close()


class RecordingHandler(SimpleRequestHandler):
    """SimpleRequestHandler that records the update before answering Telegram."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, seen: Seen) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, secret_token=WEBHOOK_TOKEN)
        self.seen = seen
        self.running: set[asyncio.Task[Any]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            return web.Response(body="Unauthorized", status=401)
        update = await request.json(loads=self.bot.session.json_loads)
        if await self.seen.record(int(update["update_id"])):  # a repeat: acknowledged only
            task = asyncio.create_task(self.dispatcher.feed_raw_update(self.bot, update))
            self.running.add(task)
            task.add_done_callback(self.running.discard)
        return web.json_response({})

    async def close(self) -> None:
        await super().close()
        await self.seen.close()


async def open_seen(store: str) -> Seen:
    if store.startswith("postgres"):
        return await PostgresSeen.open(store)
    return await SqliteSeen.open(store)


def build(api_base_url: str, seen: Seen | None) -> web.Application:
    """A message is echoed with one button; a press is answered and its message edited."""
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
    handler = (
        SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=WEBHOOK_TOKEN)
        if seen is None
        else RecordingHandler(dp, bot, seen)
    )
    handler.register(app, path="/webhook")
    return app


async def app(api_base_url: str, store: str | None) -> web.Application:
    return build(api_base_url, await open_seen(store) if store else None)


def main(port: int, api_base_url: str, store: str | None) -> None:
    web.run_app(app(api_base_url, store), host=HOST, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
