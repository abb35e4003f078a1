"""Two `trt serve` processes through a 10-second Postgres outage, under webhook traffic
and with jobs at KIE whose callbacks arrive during it, on a database the test cuts itself
(new connections refused, every open one terminated) and then restores.

Afterwards: one leader runs the reconciler again within 5 s, every job settles with no
Star held, every update Telegram got a 200 for is answered exactly once (the 503'd ones
are posted again, as Telegram would), and SIGTERM stops both with exit 0.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import SECRETS, child_settings, eventually, migrate
from tests.e2e.processes import ServerProcess
from tests.e2e.traffic import greeted, missing_or_repeated, post_updates, start_update
from tests.store.outage import BreakableDatabase, breakable_database
from trt.domain import JobState, LedgerKind, TgUserId
from trt.records import JobFilter
from trt.runtime import open_services
from trt.sandbox.kie.emulation import Schedule
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import Settings

OUTAGE_SECONDS = 10.0
JOBS = 30
FIRST_JOB_USER = 70_000
CHATTERS = [70_500 + n for n in range(40)]
UPDATES_PER_SECOND = 20
TERMINAL = (JobState.DELIVERED, JobState.RELEASED)


async def health(http: aiohttp.ClientSession, server: ServerProcess) -> dict[str, Any]:
    async with http.get(f"http://127.0.0.1:{server.port}/health") as r:
        body: dict[str, Any] = await r.json()
        return body


async def ready_status(http: aiohttp.ClientSession, server: ServerProcess) -> int:
    async with http.get(f"http://127.0.0.1:{server.port}/ready") as r:
        return r.status


class Traffic:
    """/start updates posted at a steady pace to the two servers in turn, each status kept."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        self.servers = servers
        self.statuses: dict[int, int] = {}
        self.stop = asyncio.Event()
        self.sent = 0

    async def run(self) -> None:
        while not self.stop.is_set():
            self.sent += 1
            update_id, user = self.sent, CHATTERS[self.sent % len(CHATTERS)]
            server = self.servers[update_id % 2]
            [status] = await post_updates(server.port, [start_update(update_id, user)])
            self.statuses[update_id] = status
            # The pace of the traffic, not a wait for an effect.
            await asyncio.sleep(1 / UPDATES_PER_SECOND)

    def refused(self) -> list[int]:
        return sorted(u for u, status in self.statuses.items() if status != 200)


@pytest.fixture
async def world(
    tmp_path: Path, server_processes: list[ServerProcess]
) -> AsyncIterator[tuple[BreakableDatabase, TelegramEmulator, list[ServerProcess]]]:
    async with (
        breakable_database() as target,
        run_telegram_emulator(flood_limits=False) as tg,
        # Jobs take 4 s at KIE: those started just before the cut finish during it.
        run_emulator(rate_limit=None, schedule=Schedule(0.5, 1.0, 4.0)) as kie,
    ):
        await migrate(target.url)
        extra = {"kie_queries_per_second": 200, "inbox_lease_seconds": 15}
        servers = [
            ServerProcess(child_settings(target.url, tg, kie, **extra), tmp_path / f"s{n}.log")
            for n in range(2)
        ]
        server_processes.extend(servers)
        await asyncio.gather(*(s.start() for s in servers))
        for user in [*CHATTERS, *range(FIRST_JOB_USER, FIRST_JOB_USER + JOBS)]:
            tg.user(TgUserId(user), language_code="en")
        yield target, tg, servers


async def start_jobs(settings: Settings) -> list[str]:
    async with open_services(settings) as services:
        gen, store = services.generation, services.store
        ids: list[str] = []
        for n in range(JOBS):
            user = TgUserId(FIRST_JOB_USER + n)
            await store.users.ensure(user, language="en")
            await store.ledger.credit(user, 100, kind=LedgerKind.TOPUP, key=f"topup:{n}",
                                      reason="")  # fmt: skip
            quote = gen.quote("google/nano-banana", {"prompt": f"picture {n}"})
            ids.append((await gen.start(user, quote, chat_id=user)).id)
        return ids


class TestDatabaseOutage:
    async def test_two_instances_heal_after_ten_seconds_without_the_database(self, world):
        """Ten seconds without the database under traffic: afterwards exactly one leader
        reconciles within 5 s, no job is stuck, no Star held, each 200'd update answered
        once, no traceback and no secret in either log, and SIGTERM exits 0."""
        target, tg, servers = world
        settings = Settings(_env_file=None, **servers[0].settings)
        traffic = Traffic(servers)
        sending = asyncio.create_task(traffic.run())
        job_ids = await start_jobs(settings)
        async with aiohttp.ClientSession() as http:
            await target.cut()
            cut_at = time.monotonic()

            async def both_degraded() -> bool:
                states = [await health(http, s) for s in servers]
                readiness = [await ready_status(http, s) for s in servers]
                return all(h["status"] == "degraded" for h in states) and readiness == [503] * 2

            await eventually(both_degraded, within=OUTAGE_SECONDS - 1)
            # The length of the fault being simulated, not a wait for an effect.
            await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - cut_at))
            await target.restore()
            back_at = time.monotonic()

            async def one_leader_reconciling() -> bool:
                states = [await health(http, s) for s in servers]
                leaders = [h for h in states if h["leader"]]
                return len(leaders) == 1 and "reconciler" not in leaders[0]["failing"]

            await eventually(one_leader_reconciling, within=15)
            leader_after = time.monotonic() - back_at
            traffic.stop.set()
            await sending
            refused = traffic.refused()
            assert refused, "the outage should have refused some webhook calls"
            retried = [start_update(u, CHATTERS[u % len(CHATTERS)]) for u in refused]
            for update in retried:  # Telegram retries what was not acknowledged
                assert await post_updates(servers[update["update_id"] % 2].port, [update]) == [200]
            settled_after = await wait_settled(settings, job_ids, back_at)
            expected = list(traffic.statuses)
            try:
                await eventually(lambda: answered_all(tg, expected), within=60)
            except TimeoutError:
                pytest.fail(missing_or_repeated(greeted(tg), expected))
            assert missing_or_repeated(greeted(tg), expected) == ""
            states = [await health(http, s) for s in servers]
            assert sorted(h["leader"] for h in states) == [False, True]
        await check_money(settings, job_ids)
        assert [s.terminate() for s in servers] == [0, 0]
        check_logs(servers, tg)
        sys.stderr.write(
            f"\noutage figures: {len(traffic.statuses)} updates ({len(refused)} answered 503), "
            f"{JOBS} jobs; healthy leader {leader_after:.2f} s after the database returned, "
            f"last stuck job settled after {settled_after:.2f} s\n"
        )
        assert leader_after <= 5.0


async def answered_all(tg: TelegramEmulator, expected: list[int]) -> bool:
    return len(set(greeted(tg)) & set(expected)) == len(expected)


async def wait_settled(settings: Settings, job_ids: list[str], since: float) -> float:
    """Seconds from `since` until every job is delivered or released."""
    async with open_services(settings) as services:

        async def all_terminal() -> bool:
            open_jobs = JobFilter(states=tuple(set(JobState) - set(TERMINAL)), limit=1)
            return not await services.store.jobs.find(open_jobs)

        try:
            await eventually(all_terminal, within=60)
        except TimeoutError:
            pytest.fail(f"jobs left open: {await services.store.jobs.count_by_state()}")
        return time.monotonic() - since


async def check_money(settings: Settings, job_ids: list[str]) -> None:
    async with open_services(settings) as services:
        store = services.store
        assert await store.ledger.invariant_violations() == []
        for n, job_id in enumerate(job_ids):
            account = await store.users.get(TgUserId(FIRST_JOB_USER + n))
            job = await store.jobs.get(job_id)
            spent = job.price_stars if job.state is JobState.DELIVERED else 0
            assert (account.balance, account.held) == (100 - spent, 0), job


def check_logs(servers: list[ServerProcess], tg: TelegramEmulator) -> None:
    secrets = [*SECRETS.values(), tg.token]
    for server in servers:
        log = server.log_text(whole=True)
        assert not [s for s in secrets if s in log], "a secret reached a server's log"
        assert "Traceback" not in log, log[-3000:]
