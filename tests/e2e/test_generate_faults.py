"""Generate under faults: a double tap while Telegram is slow, and presses in flight when
the server is killed. A press is one job, one hold and one status message, whatever
happens to the update that carried it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.chat import fill_edit_form, fill_form, generate_data
from tests.e2e.conftest import Emulators, child_settings, eventually, job_reaches, serving
from tests.e2e.processes import ServerProcess
from tests.e2e.traffic import unprocessed
from tests.sandbox.telegram.conftest import png
from trt.bot.updates import WORKERS
from trt.core.services import Services
from trt.domain import JobId, JobState, LedgerKind, TgUserId
from trt.records import JobFilter, JobRecord
from trt.runtime import open_services
from trt.sandbox.kie.emulation import Fault
from trt.sandbox.telegram.core import TelegramEmulator
from trt.settings import Settings
from trt.store.engine import Database
from trt.store.sql import SqlStore
from trt.store.tables import fsm_states

TAPPER = TgUserId(7001)


def db_of(services: Services) -> Database:
    """The test reads tables the ports do not show (the inbox, the forms' rows)."""
    assert isinstance(services.store, SqlStore)
    return services.store.db


PROMPTERS = [TgUserId(7100 + n) for n in range(4)]  # Nano Banana: createTask is slow
EDITORS = [TgUserId(7200 + n) for n in range(3)]  # Nano Banana Edit: the upload is slow
SPENDER = TgUserId(7300)  # spends their Stars elsewhere before pressing: refused
STARTING = "starting"  # a form's job while its Generate press is being handled
SLOW = Fault(code=None, delay=60)  # a correct answer, a minute late: in flight at the kill


async def customer(services: Services, tg: TelegramEmulator, user: TgUserId) -> None:
    """A user Telegram knows, registered with 100 ⭐."""
    tg.user(user, language_code="en")
    await services.store.users.ensure(user, language="en")
    await services.store.ledger.credit(
        user, 100, kind=LedgerKind.TOPUP, key=f"topup:{user}", reason="test"
    )


async def jobs_of(services: Services, user: TgUserId) -> list[JobRecord]:
    return await services.store.jobs.find(JobFilter(user_id=user))


def sent_texts(tg: TelegramEmulator, user: int, fragment: str) -> list[dict[str, Any]]:
    """Accepted sendMessage calls into `user`'s chat whose text contains `fragment`."""
    return [
        c.result for c in tg.calls_to("sendMessage")
        if c.ok and str(c.params.get("chat_id")) == str(user)
        and fragment in str(c.params.get("text"))
    ]  # fmt: skip


def answers(tg: TelegramEmulator) -> dict[str, str | None]:
    """The bot's answer text (None: a silent answer) by callback query id."""
    return {
        str(c.params.get("callback_query_id")): c.params.get("text")
        for c in tg.calls_to("answerCallbackQuery")
    }


@pytest.fixture
async def in_process(
    database_url: str, emulators: Emulators
) -> AsyncIterator[tuple[TelegramEmulator, Services]]:
    """`trt serve` in this process, and the test's own services on the same database."""
    tg, kie = emulators
    settings = Settings(_env_file=None, **child_settings(database_url, tg, kie))
    async with serving(settings), open_services(settings) as services:
        yield tg, services


async def starting_forms(db: Database) -> list[str]:
    """Keys of forms whose Generate press never got its job ("starting" left behind)."""
    async with db.transaction(readonly=True) as conn:
        rows = await conn.execute(select(fsm_states.c.key, fsm_states.c.data))
        return [k for k, data in rows if (data.get("form") or {}).get("job") == STARTING]


def press_updates(tg: TelegramEmulator, query_ids: set[str]) -> set[int]:
    """The update ids that carry the given callback queries."""
    return {
        u["update_id"] for u in tg.updates.sent
        if u.get("callback_query", {}).get("id") in query_ids
    }  # fmt: skip


def acknowledged(tg: TelegramEmulator) -> set[int]:
    """Update ids the webhook answered 2xx (stored in the server's inbox)."""
    return {d.update_id for d in tg.updates.deliveries if d.status and 200 <= d.status < 300}


class TestKilledMidPress:
    async def test_every_press_in_flight_at_a_sigkill_ends_as_one_job(
        self, database_url: str, emulators: Emulators, tmp_path: Path,
        server_processes: list[ServerProcess],
    ) -> None:  # fmt: skip
        """Eight users press Generate; the server is SIGKILLed while some presses wait on
        KIE (createTask, or the upload of the user's photo) and the rest wait in the inbox.
        After a restart every press is exactly one job with one hold and one status
        message, or (for a user whose Stars went elsewhere) an explained refusal; no form
        is left "starting"; every job but those cut off in createTask is delivered, those
        held at the kill included; the ledger adds up."""
        tg, kie = emulators
        settings = child_settings(database_url, tg, kie, inbox_lease_seconds=1)
        server = ServerProcess(settings, tmp_path / "server.log")
        server_processes.append(server)
        await server.start()
        users = [*EDITORS, *PROMPTERS]
        async with open_services(Settings(_env_file=None, **settings)) as services:
            for user in [*users, SPENDER]:
                await customer(services, tg, user)
            *confirmations, spender_form = await asyncio.gather(
                *(fill_edit_form(tg, u, png(), f"a hat, take {u}") for u in EDITORS),
                *(fill_form(tg, u, f"a fox, take {u}") for u in PROMPTERS),
                fill_edit_form(tg, SPENDER, png(), "a hat I cannot pay for"),
            )
            await services.store.ledger.hold(SPENDER, JobId("01ELSEWHERE"), 100)

            async def forms_settled() -> bool:  # their confirm screens' updates all done
                return await unprocessed(db_of(services)) == 0

            # Else a press may queue behind its sender's last form update (still finishing
            # after the confirm screen went out) while other users' presses take every
            # worker: no editor's upload would then be in flight at the kill.
            await eventually(forms_settled, within=20)
            kie.inject("create", SLOW, times=len(PROMPTERS))
            kie.inject("upload", SLOW, times=len(EDITORS))
            # Editors and prompters take turns, so the first presses the workers take wait
            # on both kinds of KIE call; the last ones wait in the inbox.
            order = sorted(range(len(users)), key=lambda n: (n % len(EDITORS), n))
            queries = {
                await tg.click(users[n], confirmations[n].message_id,
                               generate_data(confirmations[n]))
                for n in order
            }  # fmt: skip
            queries.add(await tg.click(SPENDER, spender_form.message_id,
                                       generate_data(spender_form)))  # fmt: skip
            presses = press_updates(tg, queries)

            async def in_flight() -> bool:
                waiting = [r for r in kie.requests if r[1].endswith(("createTask", "upload"))]
                stored = presses <= acknowledged(tg)
                return stored and len(waiting) >= min(len(users), WORKERS)

            await eventually(in_flight, within=20)
            server.kill()
            at_kill = {j.id: j.state for u in users for j in await jobs_of(services, u)}
            assert {JobState.HELD, JobState.SUBMITTING} <= set(at_kill.values()), at_kill
            while kie.take_fault("create") or kie.take_fault("upload"):
                pass  # what the dead server did not reach answers at once again
            await server.start()

            async def presses_handled() -> bool:
                owned = [await jobs_of(services, u) for u in users]
                return all(owned) and await unprocessed(db_of(services)) == 0

            await eventually(presses_handled, within=30)
            for user in users:
                [job] = await jobs_of(services, user)
                holds = await services.store.ledger.entries(job_id=job.id, limit=50)
                assert [e.kind for e in holds].count(LedgerKind.HOLD) == 1, holds
                assert len(sent_texts(tg, user, "queued")) == 1, tg.chat(user).texts()
            assert await jobs_of(services, SPENDER) == []
            assert "Not enough Stars for this." in tg.chat(SPENDER).texts()
            assert not [t for t in tg.chat(SPENDER).texts() if "queued" in t]
            assert await starting_forms(db_of(services)) == []
            for user in users:
                # KIE may or may not have made the task whose createTask was cut off; the
                # reconciler settles such a job after its orphan grace (minutes).
                [job] = await jobs_of(services, user)
                if at_kill.get(job.id) is not JobState.SUBMITTING:
                    await job_reaches(services.store, job.id, JobState.DELIVERED, within=20)
            assert await services.store.ledger.invariant_violations() == []


class TestDoubleTap:
    async def test_two_quick_presses_on_a_slow_telegram_are_one_job_and_one_status(
        self, in_process: tuple[TelegramEmulator, Services]
    ) -> None:
        """Generate pressed twice in quick succession while Telegram answers callback
        queries 1.5 s late: one job (the second press is told it started already), one
        "queued" status message, and the job is delivered with that message showing it
        done."""
        tg, services = in_process
        await customer(services, tg, TAPPER)
        confirmation = await fill_form(tg, TAPPER, "a red fox in snow")
        tg.delay("answerCallbackQuery", 1.5)

        taps = [
            await tg.click(TAPPER, confirmation.message_id, generate_data(confirmation))
            for _ in range(2)
        ]

        async def both_handled() -> bool:
            return set(taps) <= set(answers(tg)) and bool(await jobs_of(services, TAPPER))

        await eventually(both_handled, within=20)
        [job] = await jobs_of(services, TAPPER)
        await job_reaches(services.store, job.id, JobState.DELIVERED, within=20)
        assert len(await jobs_of(services, TAPPER)) == 1
        queued = sent_texts(tg, TAPPER, "queued")
        assert len(queued) == 1, tg.chat(TAPPER).texts()
        assert answers(tg)[taps[1]] == "This generation has already started."
        job = await services.store.jobs.get(job.id)
        assert job.status_message_id == queued[0]["message_id"]
        status = tg.chat(TAPPER).get(queued[0]["message_id"])
        assert (status.text or "").startswith("✅"), status.text
