"""The broadcast sender over the real store (SQLite and Postgres) and a recording announcer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import pytest

from tests.store import conftest as stores
from trt.core import broadcasts
from trt.core.broadcaster import SLOTS, Broadcaster
from trt.core.ports import AnnouncementUncertain
from trt.domain import BroadcastState, RecipientState, TgUserId
from trt.errors import BroadcastTextInvalid, UsageError
from trt.records import BroadcastRecord
from trt.store.engine import Database
from trt.store.sql import SqlStore

USERS = [TgUserId(100 + n) for n in range(12)]
database = stores.database  # the store suite's fixture: SQLite, and Postgres when given


@pytest.fixture
def store(database: Database) -> SqlStore:
    return SqlStore(database)


@dataclass
class RecordingAnnouncer:
    """Implements Announcer: records each send; scripted outcomes; can hold sends open."""

    sent: list[int] = field(default_factory=list)
    outcomes: dict[int, RecipientState] = field(default_factory=dict)
    uncertain: set[int] = field(default_factory=set)
    hold_after: int | None = None  # sends past this many wait for `release`
    release: asyncio.Event = field(default_factory=asyncio.Event)
    holding: int = 0
    reports: list[BroadcastRecord] = field(default_factory=list)

    async def announce(self, chat_id: int, text: str) -> tuple[RecipientState, str | None]:
        if self.hold_after is not None and len(self.sent) >= self.hold_after:
            self.holding += 1
            await self.release.wait()
        self.sent.append(chat_id)
        if chat_id in self.uncertain:
            raise AnnouncementUncertain("ServerDisconnectedError")
        outcome = self.outcomes.get(chat_id, RecipientState.SENT)
        return outcome, None if outcome is RecipientState.SENT else "Forbidden: bot was blocked"

    async def report(self, broadcast: BroadcastRecord) -> None:
        self.reports.append(broadcast)


async def _queue(store: SqlStore) -> int:
    for user in USERS:
        await store.users.ensure(user, language="en")
    record = await broadcasts.queue(store, "<b>News</b>", language=None, created_by="cli:test")
    return record.id


def _sender(store: SqlStore, announcer: RecordingAnnouncer) -> Broadcaster:
    return Broadcaster(store.broadcasts, announcer, per_second=1000, idle_seconds=0.01)


async def _until(check, within: float = 10.0) -> None:
    """Poll a condition the store or the fake holds (neither can signal it)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


class TestSending:
    async def test_each_reachable_user_once_and_a_report(
        self, store: SqlStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Everyone gets it once; opted-out, blocked and banned users are skipped; a 403
        counts as blocked; one report and one log line at the end."""
        broadcast = await _queue(store)
        await store.users.set_broadcast_opt_out(USERS[0], True)
        await store.users.set_blocked_bot(USERS[1], True)
        await store.users.set_banned(USERS[2], True)
        announcer = RecordingAnnouncer(outcomes={USERS[3]: RecipientState.BLOCKED})
        caplog.set_level(logging.INFO)
        assert await _sender(store, announcer).step()
        assert sorted(announcer.sent) == USERS[3:]
        (done,) = announcer.reports
        assert done.state is BroadcastState.DONE
        assert done.counts == {
            RecipientState.SENT: 8, RecipientState.BLOCKED: 1, RecipientState.SKIPPED: 3,
        }  # fmt: skip
        lines = [r.getMessage() for r in caplog.records if "broadcast_done" in r.getMessage()]
        assert lines == [
            f"broadcast_done broadcast_id={broadcast} by=cli:test recipients=12 sent=8 "
            f"blocked=1 failed=0 skipped=3 unknown=0 seconds={done_seconds(done)}"
        ]

    async def test_nothing_to_send(self, store: SqlStore) -> None:
        """With no broadcast queued a step does nothing."""
        assert not await _sender(store, RecordingAnnouncer()).step()

    async def test_cancelled_midway_sends_no_more(self, store: SqlStore) -> None:
        """Cancelling stops new sends; those not reached stay pending and no report goes."""
        broadcast = await _queue(store)
        announcer = RecordingAnnouncer(hold_after=3)
        running = asyncio.create_task(_sender(store, announcer).step())
        await _until(lambda: _holding(announcer))
        await broadcasts.cancel(store, broadcast, by="cli:test")
        announcer.release.set()
        await running
        record = await store.broadcasts.get(broadcast)
        assert len(announcer.sent) <= 3 + SLOTS  # the held ones were claimed before the cancel
        assert record.count(RecipientState.PENDING) == 12 - len(announcer.sent)
        assert announcer.reports == []


class TestInterruptions:
    async def test_crash_midway_resumes_without_sending_twice(self, store: SqlStore) -> None:
        """Killed with sends in flight: a new sender reports those unknown, sends the rest,
        and nobody gets it twice."""
        broadcast = await _queue(store)
        first = RecordingAnnouncer(hold_after=4)
        crashed = asyncio.create_task(_sender(store, first).run())
        await _until(lambda: _holding(first, SLOTS))  # every slot mid-send
        crashed.cancel()  # what a kill -9 leaves: the held sends claimed, never settled
        await asyncio.gather(crashed, return_exceptions=True)
        second = RecordingAnnouncer()
        resumed = asyncio.create_task(_sender(store, second).run())
        await _until(lambda: _done(store, broadcast))
        resumed.cancel()
        record = await store.broadcasts.get(broadcast)
        unknown = record.count(RecipientState.UNKNOWN)
        assert unknown == SLOTS  # one per sending slot, no more
        assert set(first.sent).isdisjoint(second.sent)
        assert len(first.sent) + len(second.sent) + unknown == 12
        assert record.count(RecipientState.SENT) == 12 - unknown

    async def test_uncertain_send_is_not_retried(self, store: SqlStore) -> None:
        """A network failure mid-send: that user is unknown, the sender stops for the
        supervisor's backoff, and the next run finishes the others."""
        broadcast = await _queue(store)
        announcer = RecordingAnnouncer(uncertain={USERS[5]})
        sender = _sender(store, announcer)
        with pytest.raises(AnnouncementUncertain):
            await sender.step()
        announcer.uncertain.clear()
        assert await sender.step()
        record = await store.broadcasts.get(broadcast)
        assert record.state is BroadcastState.DONE
        assert record.counts == {RecipientState.SENT: 11, RecipientState.UNKNOWN: 1}
        assert announcer.sent.count(USERS[5]) == 1

    async def test_drain_leaves_nothing_in_flight(self, store: SqlStore) -> None:
        """A graceful stop lets the sends in flight finish: none is left unknown."""
        broadcast = await _queue(store)
        announcer = RecordingAnnouncer(hold_after=2)
        sender = _sender(store, announcer)
        running = asyncio.create_task(sender.run())
        await _until(lambda: _holding(announcer))
        draining = asyncio.create_task(sender.drain(5))
        announcer.release.set()
        await draining
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        record = await store.broadcasts.get(broadcast)
        assert record.count(RecipientState.SENDING) == 0
        assert record.count(RecipientState.SENT) == len(announcer.sent)
        assert record.count(RecipientState.PENDING) == 12 - len(announcer.sent)


class TestQueueing:
    async def test_text_telegram_would_refuse(self, store: SqlStore) -> None:
        """Unbalanced HTML, unknown tags and over-long texts are refused before storing."""
        for bad in ("<b>open", "<h1>x</h1>", "x" * 4097, "   ", "&nbsp;"):
            with pytest.raises(BroadcastTextInvalid):
                await broadcasts.queue(store, bad, language=None, created_by="t")
        assert await store.broadcasts.find() == []

    async def test_unknown_language(self, store: SqlStore) -> None:
        """A language the bot has no texts for names the option and the allowed values."""
        with pytest.raises(UsageError, match="--lang: 'de' is not one of ru, en"):
            await broadcasts.preview(store.broadcasts, "hi", language="de")

    async def test_tags_do_not_count_toward_the_limit(self, store: SqlStore) -> None:
        """4096 shown characters pass however many tags wrap them."""
        text = "<b>" + "x" * 4096 + "</b>"
        shown = await broadcasts.preview(store.broadcasts, text, language=None)
        assert shown.text == text


def done_seconds(done: BroadcastRecord) -> float:
    assert done.started_at and done.finished_at
    return round((done.finished_at - done.started_at).total_seconds(), 1)


async def _holding(announcer: RecordingAnnouncer, at_least: int = 1) -> bool:
    return announcer.holding >= at_least


async def _done(store: SqlStore, broadcast: int) -> bool:
    return (await store.broadcasts.get(broadcast)).state is BroadcastState.DONE
