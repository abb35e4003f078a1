"""Serving a `TelegramEmulator` on 127.0.0.1 for the length of an ``async with`` block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from aiohttp import web

from trt.sandbox.clock import Clock, RealClock
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import EmulatorOptions
from trt.sandbox.telegram.routes import build_app


@asynccontextmanager
async def run_telegram_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    options: EmulatorOptions | None = None,
    extend: Callable[[web.Application, TelegramEmulator], None] | None = None,
    **overrides: Any,
) -> AsyncIterator[TelegramEmulator]:
    """Serve an emulator until the block exits; `port=0` picks a free port.

    `overrides` are `EmulatorOptions` fields (``token="1:x"``, ``flood_limits=False``…);
    `extend` may add routes to the app before it starts (a chat page, say).
    """
    settings = replace(options or EmulatorOptions(), **overrides)
    emu = TelegramEmulator(settings, clock or RealClock())
    app = build_app(emu)
    if extend is not None:
        extend(app, emu)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        emu.base_url = f"http://{host}:{runner.addresses[0][1]}"
        webhook = asyncio.create_task(emu.updates.run_webhook())
        try:
            yield emu
        finally:
            webhook.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await webhook
            await emu.close()
    finally:
        await runner.cleanup()
