"""Fixtures for the Telegram emulator's tests: the emulator, aiogram against it, and a
local site that receives webhooks and serves media files."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientSession, web

from trt.sandbox.telegram import ManualClock, TelegramEmulator, run_telegram_emulator


def png(width: int = 800, height: int = 600) -> bytes:
    """A PNG header with the given dimensions (enough for the emulator's size probe)."""
    return b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + struct.pack(">II", width, height) + b"\0" * 8


@dataclass
class LocalSite:
    """A real HTTP site on 127.0.0.1: `/hook` records webhook posts, `/media/*` serves files."""

    url: str = ""
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    media: dict[str, bytes] = field(default_factory=dict)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def hook(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), json.loads(await request.read())))
        async with self._arrived:
            self._arrived.notify_all()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def serve_media(self, request: web.Request) -> web.Response:
        data = self.media.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound
        return web.Response(body=data, content_type="image/png")

    async def wait_for(self, count: int) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """Wait until `count` posts arrived (a guard timeout, not a timing assumption)."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.received) >= count), timeout=10
            )
        return self.received


@pytest.fixture
async def site() -> AsyncIterator[LocalSite]:
    local = LocalSite()
    app = web.Application()
    app.router.add_post("/hook", local.hook)
    app.router.add_get("/media/{name}", local.serve_media)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    local.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield local
    await runner.cleanup()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def tg(clock: ManualClock) -> AsyncIterator[TelegramEmulator]:
    async with run_telegram_emulator(clock=clock, webhook_retry_delay=0.0) as emu:
        yield emu


def aiogram_bot(emu: TelegramEmulator) -> Bot:
    return Bot(emu.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))


@pytest.fixture
async def bot(tg: TelegramEmulator) -> AsyncIterator[Bot]:
    client = aiogram_bot(tg)
    yield client
    await client.session.close()


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


async def call(
    http: ClientSession, emu: TelegramEmulator, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST `params` as JSON to a Bot API method; the status and the decoded envelope."""
    url = f"{emu.base_url}/bot{emu.token}/{method}"
    async with http.post(url, json=params) as answer:
        return answer.status, await answer.json()
