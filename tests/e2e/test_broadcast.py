"""A broadcast to 1,000 users by `trt serve` through the Telegram emulator (flood control
on), with the server killed by SIGKILL halfway and started again."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN, child_settings, eventually
from tests.e2e.processes import ServerProcess
from trt.core import broadcasts
from trt.core.broadcaster import SLOTS
from trt.domain import BroadcastState, RecipientState, TgUserId
from trt.records import BroadcastRecord
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import Call
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.store.sql import SqlStore, open_store

USERS = [TgUserId(50_000 + n) for n in range(1000)]
CHATTER = TgUserId(70_000)  # writes to the bot while the broadcast is going out
BLOCKED_IN_TELEGRAM = USERS[100:120]  # Telegram answers 403: found out while sending
MARKED_BLOCKED = USERS[200:205]  # known before: skipped
OPTED_OUT = USERS[300:320]  # declined announcements in /settings: skipped
PER_SECOND = 25.0  # the broadcast's pace: under the bot's 28/s and Telegram's 30/s
TEXT = "<b>New models</b> are here &amp; waiting"


async def _seed(store: SqlStore, tg: TelegramEmulator) -> BroadcastRecord:
    for user in USERS:
        tg.user(user, language_code="en")
        await store.users.ensure(user, language="en")
    for user in BLOCKED_IN_TELEGRAM:
        tg.block(user)
    for user in MARKED_BLOCKED:
        await store.users.set_blocked_bot(user, True)
    for user in OPTED_OUT:
        await store.users.set_broadcast_opt_out(user, True)
    tg.user(ADMIN, language_code="en")
    return await broadcasts.queue(store, TEXT, language=None, created_by="cli:test")


def _messages(calls: list[Call]) -> list[Call]:
    """Every message Telegram took from the bot: the broadcast, replies, the report."""
    return [c for c in calls if c.method.lower() == "sendmessage" and c.ok]


def _delivered(calls: list[Call]) -> list[Call]:
    """The broadcast's messages."""
    recipients = set(USERS)
    return [c for c in _messages(calls) if int(c.params["chat_id"]) in recipients]


def _busiest_second(sent: list[Call]) -> int:
    """The most messages Telegram took in any one-second window."""
    times = sorted(c.at for c in sent)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


class TestBroadcastCrash:
    async def test_sigkill_halfway_nobody_gets_it_twice(
        self, database_url: str, tmp_path: Path, server_processes: list[ServerProcess]
    ) -> None:
        """Each user gets it once: the kill lands with a message in flight in every sending
        slot, and those recipients are reported unknown and never sent again; Telegram
        never answers 429 and never takes more than 30 a second; blocked users are marked,
        opted-out ones skipped; a user writing meanwhile is answered at once; the report
        reaches the admins."""
        async with (
            run_telegram_emulator() as tg,  # Telegram's flood limits: 30/s per bot, 1/s per chat
            run_emulator(rate_limit=None) as kie,
            open_store(database_url) as store,
        ):
            record = await _seed(store, tg)
            settings = child_settings(
                database_url, tg, kie, broadcast_per_second=PER_SECOND,
                shutdown_drain_seconds=1,
            )  # fmt: skip
            server = ServerProcess(settings, tmp_path / "server.log")
            server_processes.append(server)
            await server.start()
            await tg.wait_for(lambda calls: len(_delivered(calls)) >= 300, timeout=60)
            # Live traffic keeps its share of the bot's budget: a reply comes at once.
            tg.user(CHATTER, language_code="en")
            mark = tg.bot_message_mark(CHATTER)
            await tg.send_text(CHATTER, "/start")
            await tg.wait_for_message(CHATTER, timeout=3, after=mark)
            await tg.wait_for(lambda calls: len(_delivered(calls)) >= 500, timeout=60)
            # Telegram turns slow, so the kill lands with every sending slot mid-send.
            tg.delay("sendMessage", 3.0)

            async def all_slots_busy() -> bool:
                record_now = await store.broadcasts.get(record.id)
                return record_now.count(RecipientState.SENDING) == SLOTS

            await eventually(all_slots_busy, within=10)
            server.kill()
            tg.delay("sendMessage", 0)
            in_flight = (await store.broadcasts.get(record.id)).count(RecipientState.SENDING)
            assert in_flight == SLOTS  # the window: one message per slot, no more
            await server.start()

            async def done() -> bool:
                return (await store.broadcasts.get(record.id)).state is BroadcastState.DONE

            try:
                await eventually(done, within=90)
            except TimeoutError:
                pytest.fail(f"broadcast not done\n{server.log_text()}")
            await tg.wait_for_message(ADMIN, lambda m: "📣" in (m.text or ""), timeout=10)
            server.terminate()

            final = await store.broadcasts.get(record.id)
            sent = _delivered(tg.calls)
            per_user = collections.Counter(int(c.params["chat_id"]) for c in sent)
            assert max(per_user.values()) == 1, "a user got the broadcast twice"
            assert not [c for c in tg.calls if c.error_code == 429]
            assert _busiest_second(_messages(tg.calls)) <= 30

            unknown = final.count(RecipientState.UNKNOWN)
            assert unknown == in_flight
            reachable = (
                len(USERS) - len(BLOCKED_IN_TELEGRAM) - len(MARKED_BLOCKED) - len(OPTED_OUT)
            )
            assert final.count(RecipientState.SENT) + unknown == reachable
            assert final.count(RecipientState.SENT) <= len(per_user) <= reachable
            assert final.count(RecipientState.BLOCKED) == len(BLOCKED_IN_TELEGRAM)
            assert final.count(RecipientState.SKIPPED) == len(MARKED_BLOCKED) + len(OPTED_OUT)
            assert final.count(RecipientState.FAILED) == 0
            assert not set(per_user) & {*BLOCKED_IN_TELEGRAM, *MARKED_BLOCKED, *OPTED_OUT}
            for user in BLOCKED_IN_TELEGRAM:
                assert (await store.users.get(user)).blocked_bot
            report = tg.chat(ADMIN).last().text or ""
            assert report.startswith(
                f"📣 Broadcast #{record.id} finished (1000 users): "
                f"sent {final.count(RecipientState.SENT)}, blocked the bot 20,"
            )
            log = server.log_text(whole=True)
            assert f"broadcast_interrupted recipients={in_flight}" in log
            assert f"broadcast_done broadcast_id={record.id}" in log
