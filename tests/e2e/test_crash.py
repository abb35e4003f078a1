"""A server killed with SIGKILL in the middle of 200 running jobs, then restarted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SECRETS, eventually, free_port, migrate
from tests.e2e.processes import ServerProcess
from trt.core.services import Services
from trt.domain import JobState, LedgerKind, TgUserId
from trt.records import JobFilter
from trt.runtime import open_services
from trt.sandbox.kie.emulation import Schedule
from trt.sandbox.kie.emulator import Emulator, run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import Settings

JOBS = 200
FIRST_USER = 20_000
CHATTERS = [TgUserId(30_000 + n) for n in range(20)]
TERMINAL = (JobState.DELIVERED, JobState.RELEASED)


def server_settings(tmp_path: Path, tg: TelegramEmulator, kie: Emulator) -> dict[str, Any]:
    port = free_port()
    return {
        "telegram_bot_token": tg.token, "telegram_api_base_url": tg.base_url, "admin_id": 1,
        "bot_mode": "webhook", "webhook_base_url": f"http://127.0.0.1:{port}",
        "kie_mode": "emulator", "kie_base_url": kie.base_url, "kie_upload_base_url": kie.base_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}", "port": port,
        "kie_late_callback_seconds": 1, "reconcile_interval_seconds": 0.2,
        "kie_queries_per_second": 200,  # the emulator's limit, not KIE's: keeps the test short
        "inbox_lease_seconds": 1, "delivery_lease_seconds": 3, **SECRETS,
    }  # fmt: skip


@pytest.fixture
async def world(
    tmp_path: Path,
) -> AsyncIterator[tuple[TelegramEmulator, Emulator, dict[str, Any]]]:
    async with (
        run_telegram_emulator(flood_limits=False) as tg,
        run_emulator(rate_limit=None, schedule=Schedule(0.5, 1.0, 6.0),
                     callback_retry_delay=0.2) as kie,
    ):  # fmt: skip
        settings = server_settings(tmp_path, tg, kie)
        await migrate(settings["database_url"])
        yield tg, kie, settings


async def seed_and_start(services: Services, tg: TelegramEmulator) -> list[str]:
    gen, store = services.generation, services.store
    ids: list[str] = []
    for n in range(JOBS):
        user = TgUserId(FIRST_USER + n)
        tg.user(user, language_code="en")
        await store.users.ensure(user, language="en")
        await store.ledger.credit(user, 100, kind=LedgerKind.TOPUP, key=f"topup:{n}", reason="")
        quote = gen.quote("google/nano-banana", {"prompt": f"picture {n}"})
        ids.append((await gen.start(user, quote, chat_id=user)).id)
    return ids


class TestCrashRecovery:
    async def test_sigkill_mid_flight_loses_and_doubles_nothing(
        self, world, tmp_path: Path, server_processes: list[ServerProcess]
    ):
        """After a SIGKILL and a restart every job ends, every Star is accounted for, and no
        update is answered twice."""
        tg, kie, settings = world
        server = ServerProcess(settings, tmp_path / "server.log")
        server_processes.append(server)
        await server.start()
        async with open_services(Settings(_env_file=None, **settings)) as services:
            job_ids = await seed_and_start(services, tg)
            for user in CHATTERS[:10]:
                tg.user(user, language_code="en")
                await tg.send_text(user, "/start")
            server.kill()
            for user in CHATTERS[10:]:
                tg.user(user, language_code="en")
                await tg.send_text(user, "/start")
            await server.start()

            async def all_terminal() -> bool:
                open_jobs = JobFilter(states=tuple(set(JobState) - set(TERMINAL)), limit=1)
                return not await services.store.jobs.find(open_jobs)

            try:
                await eventually(all_terminal, within=90)
            except TimeoutError:
                counts = await services.store.jobs.count_by_state()
                pytest.fail(f"jobs left open: {counts}\n{server.log_text()}")
            assert await services.store.ledger.invariant_violations() == []
            for n in range(JOBS):
                account = await services.store.users.get(TgUserId(FIRST_USER + n))
                job = await services.store.jobs.get(job_ids[n])
                spent = job.price_stars if job.state is JobState.DELIVERED else 0
                assert (account.balance, account.held) == (100 - spent, 0)
        server.terminate()
        log = server.log_text(whole=True)
        secrets = [*SECRETS.values(), tg.token]
        assert not [s for s in secrets if s in log], "a secret reached the server's log"
        for user in CHATTERS:
            replies = [m for m in tg.chat(user).bot_messages() if m.text]
            assert len(replies) <= 1, f"user {user} was answered {len(replies)} times"
