"""Fixtures for the KIE emulator's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.sandbox.kie.receiver import CallbackReceiver


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    hook = CallbackReceiver()
    app = web.Application()
    app.router.add_post("/callback", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/callback"
    yield hook
    await runner.cleanup()
