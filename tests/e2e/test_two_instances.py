"""Two `trt serve` processes on one Postgres database: both take webhooks, one reconciles,
and when that one dies the other takes over."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from tests.e2e.conftest import SECRETS, eventually, free_port, job_reaches
from tests.e2e.processes import ServerProcess
from tests.store.conftest import postgres_url
from trt.core.services import Services
from trt.domain import JobState, LedgerKind, TgUserId
from trt.runtime import open_services
from trt.sandbox.kie.emulation import CallbackPlan, Schedule, TaskPlan
from trt.sandbox.kie.emulator import Emulator, run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import Settings
from trt.store import schema
from trt.store.engine import create_database
from trt.store.tables import metadata

USER = TgUserId(4242)


async def fresh_postgres(url: str) -> None:
    db = create_database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await schema.upgrade(db)
    await db.dispose()


def settings_for(port: int, url: str, tg: TelegramEmulator, kie: Emulator) -> dict[str, Any]:
    return {
        "telegram_bot_token": tg.token, "telegram_api_base_url": tg.base_url, "admin_id": 1,
        "bot_mode": "webhook", "webhook_base_url": f"http://127.0.0.1:{port}",
        "kie_mode": "emulator", "kie_base_url": kie.base_url, "kie_upload_base_url": kie.base_url,
        "database_url": url, "port": port, "kie_late_callback_seconds": 0.5,
        "reconcile_interval_seconds": 0.2, **SECRETS,
    }  # fmt: skip


async def health(server: ServerProcess) -> dict[str, Any]:
    url = f"http://127.0.0.1:{server.port}/health"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        body: dict[str, Any] = await r.json()
        return body


async def post_update(server: ServerProcess, update_id: int, user: int) -> int:
    message = {"message_id": update_id, "date": 0, "text": "/start",
               "chat": {"id": user, "type": "private"},
               "from": {"id": user, "is_bot": False, "first_name": "U", "language_code": "en"},
               "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}  # fmt: skip
    body = io.BytesIO(json.dumps({"update_id": update_id, "message": message}).encode())
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRETS["webhook_secret_token"]}
    url = f"http://127.0.0.1:{server.port}/webhook/{SECRETS['webhook_secret_path']}"
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


@pytest.fixture
async def pair(
    tmp_path: Path, server_processes: list[ServerProcess]
) -> AsyncIterator[tuple[list[ServerProcess], Services, Any]]:
    url = postgres_url()
    await fresh_postgres(url)
    async with (
        run_telegram_emulator(flood_limits=False) as tg,
        run_emulator(rate_limit=None, schedule=Schedule(0.05, 0.1, 0.3)) as kie,
    ):
        servers = [
            ServerProcess(settings_for(free_port(), url, tg, kie), tmp_path / f"s{n}.log")
            for n in range(2)
        ]
        server_processes.extend(servers)
        for server in servers:
            await server.start()
        async with open_services(Settings(_env_file=None, **servers[0].settings)) as services:
            tg.user(USER, language_code="en")
            await services.store.users.ensure(USER, language="en")
            await services.store.ledger.credit(USER, 100, kind=LedgerKind.TOPUP,
                                               key="topup:pair", reason="")  # fmt: skip
            yield servers, services, (tg, kie)


async def leaders(servers: list[ServerProcess]) -> list[bool]:
    return [(await health(s))["leader"] for s in servers]


class TestTwoInstances:
    async def test_both_take_webhooks_one_reconciles_and_the_other_takes_over(self, pair):
        """Updates posted to either instance are answered once; exactly one instance leads,
        and after it is killed the survivor leads and settles jobs."""
        servers, services, (tg, kie) = pair

        async def one_leader() -> bool:
            return sorted(await leaders(servers)) == [False, True]

        await eventually(one_leader, within=15)
        for n, server in enumerate(servers):
            tg.user(6000 + n, language_code="en")  # before the update: the reply needs the chat
            assert await post_update(server, 100 + n, 6000 + n) == 200
        for n in range(2):
            await tg.wait_for_message(6000 + n, lambda m: "⭐" in (m.text or ""))

        states = [(await health(s))["leader"] for s in servers]
        leader, survivor = (servers[0], servers[1]) if states[0] else (servers[1], servers[0])
        leader.kill()

        async def survivor_leads() -> bool:
            return (await health(survivor))["leader"] is True

        await eventually(survivor_leads, within=15)
        kie.plan(TaskPlan(callbacks=CallbackPlan(drop=True)))
        gen = services.generation
        job = await gen.start(USER, gen.quote("google/nano-banana", {"prompt": "x"}), chat_id=USER)
        await job_reaches(services.store, job.id, JobState.DELIVERED, within=20)
