"""A slow Bot API: `TelegramEmulator.delay` holds the answers of one method."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import ClientSession

from tests.sandbox.telegram.conftest import call
from trt.sandbox.telegram import TelegramEmulator


async def timed(http: ClientSession, tg: TelegramEmulator, method: str) -> float:
    started = time.monotonic()
    status, _ = await call(http, tg, method)
    assert status in (200, 400)  # answered (the parameters do not matter here)
    return time.monotonic() - started


class TestDelays:
    async def test_a_delayed_method_answers_that_late_and_others_at_once(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """Every call of the delayed method (matched in any letter case) is answered at least
        that many seconds late; other methods are not held."""
        tg.delay("answerCallbackQuery", 0.3)
        assert await timed(http, tg, "ANSWERCALLBACKQUERY") >= 0.3
        assert await timed(http, tg, "answerCallbackQuery") >= 0.3
        assert await timed(http, tg, "getMe") < 0.3
        assert len(tg.calls_to("answerCallbackQuery")) == 2  # recorded once each, when answered

    async def test_a_zero_delay_answers_at_once_again(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """delay(method, 0) removes the delay; a negative one is refused."""
        tg.delay("getMe", 30)
        tg.delay("getme", 0)
        async with asyncio.timeout(5):
            await timed(http, tg, "getMe")
        with pytest.raises(ValueError, match="negative"):
            tg.delay("getMe", -1)
