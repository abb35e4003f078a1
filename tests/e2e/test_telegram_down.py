"""`trt serve` started while Telegram cannot be reached: first nothing listens at its
address, then a proxy answers 502 with an error page that echoes the request path (and so
the bot token), and only 10 s after the start the Bot API itself answers.

Serve must start anyway, answer /health throughout, retry setWebhook and the command
lists in the background (one line per attempt, no traceback, no token), and once
Telegram is there the webhook is set and updates flow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import aiohttp
from aiohttp import web

from tests.e2e.conftest import SECRETS, child_settings, eventually, free_port, migrate
from tests.e2e.processes import ServerProcess
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator

TOKEN = "424242:TEST-down-at-start-SECRET"
DOWN_SECONDS = 10.0
USER = 8_100


@asynccontextmanager
async def echoing_bad_gateway(port: int) -> AsyncIterator[None]:
    """A proxy whose upstream is down: 502 and an HTML page naming the requested path."""

    async def bad_gateway(request: web.Request) -> web.Response:
        page = f"<html><body><h1>502 Bad Gateway</h1><p>{request.path}</p></body></html>"
        return web.Response(status=502, text=page, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", bad_gateway)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def health_status(server: ServerProcess) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}/health") as r,
    ):
        return r.status


class TestTelegramDownAtStart:
    async def test_serve_waits_out_telegram_and_then_takes_updates(
        self, tmp_path: Path, server_processes: list[ServerProcess]
    ) -> None:
        """Serve keeps running through 10 s without Telegram, then sets its webhook and
        answers a message; its log has a line per failed attempt and no token or traceback."""
        telegram_port = free_port()
        url = f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}"
        await migrate(url)
        async with run_emulator(rate_limit=None) as kie:
            not_yet = cast(TelegramEmulator, NotStartedTelegram(telegram_port))
            settings = child_settings(url, not_yet, kie)
            settings["retry_max_seconds"] = 2
            server = ServerProcess(settings, tmp_path / "server.log")
            server_processes.append(server)
            started = time.monotonic()
            await server.start()  # /health answers though Telegram is unreachable
            await eventually(lambda: attempts_logged(server, 2), within=DOWN_SECONDS)
            async with echoing_bad_gateway(telegram_port):
                await eventually(lambda: bad_gateway_seen(server), within=DOWN_SECONDS)
                assert await health_status(server) == 200
                # The rest of the outage being simulated, not a wait for an effect.
                await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - started)))
            async with run_telegram_emulator(
                port=telegram_port, token=TOKEN, flood_limits=False
            ) as tg:
                await eventually(lambda: webhook_set(tg), within=15)
                tg.user(USER, language_code="en")
                await tg.send_text(USER, "/start")
                await tg.wait_for_message(USER, lambda m: "⭐" in (m.text or ""))
            assert server.process is not None and server.process.poll() is None
        assert server.terminate() == 0
        log = server.log_text(whole=True)
        assert "Traceback" not in log, log[-3000:]
        assert not [s for s in [TOKEN, *SECRETS.values()] if s in log], "a secret leaked"
        assert "telegram setWebhook recovered" in log


class NotStartedTelegram:
    """What `child_settings` reads of a Telegram emulator, for one not started yet."""

    def __init__(self, port: int) -> None:
        self.token = TOKEN
        self.base_url = f"http://127.0.0.1:{port}"


async def attempts_logged(server: ServerProcess, count: int) -> bool:
    return server.log_text(whole=True).count("telegram setWebhook: attempt") >= count


async def bad_gateway_seen(server: ServerProcess) -> bool:
    # aiogram reports a page that is not JSON as undecodable (its body stays out of the log).
    return "attempt 3 failed: ClientDecodeError" in server.log_text(whole=True)


async def webhook_set(tg: TelegramEmulator) -> bool:
    return any(call.ok for call in tg.calls_to("setWebhook"))
