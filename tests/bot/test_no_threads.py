"""aiogram runs a filter or handler that is not a coroutine in a thread (`asyncio.to_thread`),
a hop per check per update; every one of ours must run on the loop (`trt.bot.filters`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.bot.conftest import ADMIN, DriverFactory
from tests.bot.driver import Driver, open_model
from tests.bot.routers.test_wizard import png


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the bot sends to a thread while the test runs (it runs it anyway)."""
    sent: list[Any] = []
    to_thread = asyncio.to_thread

    async def record(function: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(function)
        return await to_thread(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", record)
    return sent


async def test_commands_forms_and_files_route_on_the_loop(en: Driver, threaded: list[Any]):
    """/start, a catalogue, a file where text is asked, a typed prompt, a payment command,
    and text nobody expects."""
    assert "🖼 Images" in str((await en.send("/start")).reply_markup)
    await open_model(en, "🖼 Images", "Nano Banana ·")
    await en.send_file("photo", png())
    assert "🚀 Generate" in str((await en.send("a cat")).reply_markup)
    await en.send("/topup")
    await en.send("hello?")
    assert threaded == []


async def test_admin_commands_route_on_the_loop(
    make_driver: DriverFactory, threaded: list[Any]
) -> None:
    admin = make_driver(ADMIN)
    assert ((await admin.send("/admin")).text or "").startswith("Today (UTC)")
    assert threaded == []
