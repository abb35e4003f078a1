"""The visit read with an update's claim (`ReadAhead`): used when nothing of the sender's
runs before the update, and never when it could read what an earlier update then changes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message, Update

from tests.bot.conftest import make_services
from tests.bot.test_updates import wait_until
from trt.bot.middlewares import ReadAhead, UserMiddleware, expected_visit
from trt.bot.storage import key_text
from trt.bot.updates import UpdateProcessor
from trt.catalog.registry import Registry
from trt.core.metrics import Metrics
from trt.domain import TgUserId
from trt.records import FormRow, FreeUse, Pending, Profile, UserRecord, Visit
from trt.sandbox.kie.fake import FakeKie
from trt.store.sql import SqlStore

SENDER = 77
DAY = date(2026, 12, 7)


def person(user_id: int = SENDER, **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en", **extra}


def message(update_id: int, text: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"message_id": update_id, "date": 0, "text": text, "from": person(),
            "chat": chat or {"id": SENDER, "type": "private"}}  # fmt: skip
    return {"update_id": update_id, "message": body}


class Conversation:
    """The update processor over the real inbox and `UserMiddleware`, with one handler that
    records what each update saw; "first" waits for `release` and then moves the form on."""

    def __init__(self, bot: Bot, store: SqlStore, registry: Registry, **inbox: Any) -> None:
        self.seen: list[tuple[str | None, str | None, bool]] = []
        self.release = asyncio.Event()
        self.reads = 0
        services = make_services(store, registry, FakeKie(), bot)
        visits = store.visits
        arrive = visits.arrive

        async def counted(*args: Any, **kwargs: Any) -> Visit:
            self.reads += 1
            return await arrive(*args, **kwargs)

        visits.arrive = counted  # type: ignore[method-assign]
        read_ahead = ReadAhead()
        dp = Dispatcher(disable_fsm=True, services=services)
        dp.update.outer_middleware(UserMiddleware(dp.fsm, read_ahead))
        router = Router()
        router.message.register(self.handle)
        dp.include_router(router)
        box = inbox.get("inbox", store.inbox)
        self.updates = UpdateProcessor(
            bot, dp, box, Metrics(), workers=2, capacity=10, read_ahead=read_ahead
        )

    async def handle(
        self, message: Message, raw_state: str | None, state: FSMContext, new_user: bool
    ) -> None:
        self.seen.append((message.text, raw_state, new_user))
        if message.text == "first":
            await self.release.wait()
            await state.set_state("Flow:asked")

    async def saw(self, count: int) -> None:
        await asyncio.wait_for(wait_until(lambda: len(self.seen) >= count), timeout=5)

    async def finished(self) -> None:
        await asyncio.wait_for(wait_until(lambda: not self.updates.pool.pending), timeout=5)


@pytest.fixture
async def talk(bot: Bot, store: SqlStore, registry: Registry) -> Any:
    conversation = Conversation(bot, store, registry)
    conversation.updates.start()
    yield conversation
    conversation.release.set()
    await conversation.updates.drain(1)


async def test_an_idle_senders_update_is_read_with_its_claim(talk: Conversation) -> None:
    """A first contact: registered and read in the claiming transaction, no read after."""
    await talk.updates.receive(1, message(1, "hello"))
    await talk.saw(1)
    await talk.finished()
    assert (talk.seen, talk.reads) == ([("hello", None, True)], 0)


async def test_an_update_behind_a_running_one_reads_what_that_one_wrote(
    talk: Conversation,
) -> None:
    """The second update arrives while the first one's handler runs: it is read only once
    the first has moved the form on, so it sees the new state."""
    await talk.updates.receive(1, message(1, "first"))
    await talk.saw(1)
    await talk.updates.receive(2, message(2, "second"))
    talk.release.set()
    await talk.saw(2)
    await talk.finished()
    assert talk.seen == [("first", None, True), ("second", "Flow:asked", False)]
    assert talk.reads == 1  # the second one's, after the first


class SlowDone:
    """The real inbox, with `done` held until `go` is set."""

    def __init__(self, inbox: Any) -> None:
        self.inbox, self.go, self.waiting = inbox, asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inbox, name)

    async def done(self, seq: int, *, owner: str) -> bool:
        self.waiting.set()
        await self.go.wait()
        return bool(await self.inbox.done(seq, owner=owner))


async def test_an_update_behind_one_being_marked_done_is_read_with_its_claim(
    bot: Bot, store: SqlStore, registry: Registry
) -> None:
    """Once the first update's handlers returned, marking it done changes nothing a visit
    reads: the next one is read as it is claimed, and sees the first one's form."""
    inbox = SlowDone(store.inbox)
    talk = Conversation(bot, store, registry, inbox=inbox)
    talk.updates.start()
    try:
        talk.release.set()
        await talk.updates.receive(1, message(1, "first"))
        await asyncio.wait_for(inbox.waiting.wait(), timeout=5)
        await talk.updates.receive(2, message(2, "second"))
        inbox.go.set()
        await talk.saw(2)
        await talk.finished()
        assert talk.seen == [("first", None, True), ("second", "Flow:asked", False)]
        assert talk.reads == 0
    finally:
        await talk.updates.drain(1)


class TestExpectedVisit:
    def test_a_private_message_or_button_names_aiograms_form_key(self) -> None:
        key = key_text(StorageKey(bot_id=5, chat_id=SENDER, user_id=SENDER))
        query = expected_visit(5, message(1, "hi"), day=DAY)
        assert query is not None
        assert (query.user_id, query.form_key, query.day) == (SENDER, key, DAY)
        assert query.profile == Profile(None, "Ann", "en")
        press = {"update_id": 2, "callback_query": {"id": "q", "from": person(),
                 "message": message(1, "menu")["message"], "chat_instance": "c"}}  # fmt: skip
        assert expected_visit(5, press, day=DAY) == query

    @pytest.mark.parametrize(
        "update",
        [
            message(1, "hi", chat={"id": -100, "type": "group"}),
            message(1, "hi", chat={"id": SENDER, "type": "private"})
            | {"message": message(1, "hi")["message"] | {"is_topic_message": True}},
            {
                "update_id": 1,
                "message": message(1, "hi")["message"] | {"from": person(is_bot=True)},
            },
            {
                "update_id": 1,
                "callback_query": {"id": "q", "from": person(), "chat_instance": "c"},
            },
            {"update_id": 1, "pre_checkout_query": {"id": "p", "from": person()}},
        ],
        ids=["group", "topic", "bot", "press without message", "other kind"],
    )
    def test_anything_else_is_left_to_the_middleware(self, update: dict[str, Any]) -> None:
        assert expected_visit(5, update, day=DAY) is None


class TestReadAheadTake:
    def visit(self) -> Visit:
        now = datetime.now(UTC)
        record = UserRecord(
            TgUserId(SENDER), None, "Ann", "en", 0, 0, False, False, now, now, FreeUse(DAY, 0)
        )
        return Visit(record, created=False, form=FormRow("S", {}), form_key="k")

    def test_only_the_update_it_was_read_for_and_only_once(self) -> None:
        ahead, update, other = ReadAhead(), Update(update_id=1), Update(update_id=1)
        visit = self.visit()
        with ahead.holding(update, visit):
            assert ahead.take(other, SENDER, "k", DAY) is None
            assert ahead.take(update, SENDER, "k", DAY) is visit
            assert ahead.take(update, SENDER, "k", DAY) is None

    @pytest.mark.parametrize(
        "asked", [(SENDER + 1, "k", DAY), (SENDER, "other", DAY), (SENDER, "k", date(2026, 12, 8))]
    )
    def test_a_guess_that_missed_is_not_used(self, asked: tuple[int, str, date]) -> None:
        ahead, update = ReadAhead(), Update(update_id=1)
        with ahead.holding(update, self.visit()):
            assert ahead.take(update, *asked) is None


class RecoveryMeanwhile:
    """An inbox that stores update 2 only when `stored` is set, claimed and with its sender's
    visit as read at that moment (no form yet), while its recovery hands out update 0 of the
    same sender, whose `done` waits for `finish`."""

    def __init__(self, visit: Visit) -> None:
        self.visit, self.asked = visit, list[object]()
        self.stored, self.finish, self.marking = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.recovered = False

    async def record_many(self, arrivals: Any, *, claim: Any = None) -> list[Pending]:
        self.asked = [a.visit for a in arrivals]
        await self.stored.wait()
        return [Pending(20 + a.update_id, a.update_id, a.user_id, a.payload, self.visit)
                for a in arrivals]  # fmt: skip

    async def stranded(self, *, grace: Any, limit: int = 200) -> list[Pending]:
        found, self.recovered = ([] if self.recovered else [Pending(10, 0, SENDER)]), True
        return found

    async def claim(self, seq: int, *, owner: str, lease: Any) -> dict[str, Any] | None:
        return message(0, "first")

    async def done(self, seq: int, *, owner: str) -> bool:
        if seq == 10:
            self.marking.set()
            await self.finish.wait()
        return True

    async def renew(self, owner: str, *, lease: Any) -> int:
        return 0

    async def prune(self) -> int:
        return 0


async def test_a_visit_read_while_recovery_handed_out_an_earlier_update_is_not_used(
    bot: Bot, store: SqlStore, registry: Registry
) -> None:
    """Update 2 is claimed (its visit read) while recovery hands this process update 0 of
    the same sender, which runs and is being marked done when update 2 is queued: the read
    may predate update 0's changes, so update 2 reads again, after it."""
    now = datetime.now(UTC)
    user = UserRecord(TgUserId(SENDER), None, "Ann", "en", 0, 0, False, False, now, now)
    key = key_text(StorageKey(bot_id=bot.id, chat_id=SENDER, user_id=SENDER))
    stale = Visit(replace(user, free_used=FreeUse(datetime.now(UTC).date(), 0)), False, None, key)
    inbox = RecoveryMeanwhile(stale)
    talk = Conversation(bot, store, registry, inbox=inbox)
    talk.release.set()
    talk.updates.pool.start()
    try:
        second = asyncio.create_task(talk.updates.receive(2, message(2, "second")))
        await asyncio.wait_for(wait_until(lambda: bool(inbox.asked)), timeout=5)
        await talk.updates._recover_once()  # what the supervisor's recovery loop runs
        await asyncio.wait_for(inbox.marking.wait(), timeout=5)
        inbox.stored.set()
        await asyncio.wait_for(second, timeout=5)
        inbox.finish.set()
        await talk.saw(2)
        assert inbox.asked != [None]  # the visit was asked for with the claim
        assert talk.seen == [("first", None, True), ("second", "Flow:asked", False)]
    finally:
        inbox.finish.set()
        await talk.updates.drain(1)
