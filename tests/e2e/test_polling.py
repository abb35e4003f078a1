"""Polling mode: only the leader calls getUpdates, so two instances never cause a 409."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.conftest import SECRETS, free_port, migrate
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.server.process import serve
from trt.settings import Settings

USER = 777


class TestPolling:
    async def test_two_polling_instances_answer_once_without_conflict(self, tmp_path: Path):
        """Two instances in polling mode on one database: one polls, /start is answered
        once, and Telegram never answers 409."""
        async with run_telegram_emulator() as tg, run_emulator(rate_limit=None) as kie:
            tg.user(USER, language_code="en")
            url = f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}"
            await migrate(url)
            stop = asyncio.Event()
            servers = []
            for _ in range(2):
                settings = Settings(
                    _env_file=None, telegram_bot_token=tg.token,
                    telegram_api_base_url=tg.base_url, admin_id=1, bot_mode="polling",
                    kie_mode="emulator", kie_base_url=kie.base_url,
                    kie_upload_base_url=kie.base_url, database_url=url, port=free_port(),
                    kie_api_key=SECRETS["kie_api_key"],
                )  # fmt: skip
                ready = asyncio.Event()
                servers.append(asyncio.create_task(
                    serve(settings, host="127.0.0.1", stop=stop, ready=ready)
                ))  # fmt: skip
                await ready.wait()
            mark = tg.bot_message_mark(USER)
            await tg.send_text(USER, "/start")
            await tg.wait_for_message(USER, after=mark)
            stop.set()
            await asyncio.gather(*servers)
        assert [c for c in tg.calls if c.error_code == 409] == []
        assert len([m for m in tg.chat(USER).bot_messages() if m.text]) == 1
