"""Flood safety: every Bot API call is paced, waits out 429s, and marks users who blocked us."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, SendMessage
from aiogram.types import Message

from tests.bot.conftest import USER
from tests.bot.driver import Driver, generate_image
from trt.bot.client import make_bot
from trt.bot.flood import pace_of
from trt.bot.sender import Sender
from trt.domain import JobState, TgUserId
from trt.sandbox.telegram import ManualClock, TelegramEmulator, run_telegram_emulator


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def too_many(retry_after: int = 1) -> TelegramRetryAfter:
    method = SendMessage(chat_id=USER, text="x")
    return TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=retry_after)


class Script:
    """A send that first raises the given errors, then answers "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sender(time_: FakeTime) -> Sender:
    return Sender(per_second=10, clock=time_.clock, sleep=time_.sleep)


class TestPacing:
    async def test_one_chat_gets_a_burst_then_one_message_a_second(self, sender, time_):
        """Three messages to a chat go at once; the fourth waits a second."""
        for _ in range(4):
            await sender.call(Script(), chat=1)
        assert time_.slept == [1.0]

    async def test_many_chats_are_held_by_the_bot_rate_only(self, sender, time_):
        """Ten chats at 10/s go at once; the eleventh waits a tenth of a second."""
        for chat in range(11):
            await sender.call(Script(), chat=chat)
        assert time_.slept == [0.1]

    async def test_edits_and_callback_answers_skip_the_chat_limit(self, sender, time_):
        """Edits count against the bot only; callback answers are not paced at all."""
        for _ in range(5):
            await sender.call(Script(), chat=1, pace="edit")
        for _ in range(20):
            await sender.call(Script(), chat=1, pace="free")
        assert time_.slept == []

    @pytest.mark.parametrize(
        ("method", "pace"),
        [("sendMessage", "message"), ("sendPhoto", "message"), ("copyMessage", "message"),
         ("editMessageText", "edit"), ("sendChatAction", "free"),
         ("answerCallbackQuery", "free"), ("getUpdates", "free")],
    )  # fmt: skip
    def test_methods_count_as_telegram_counts_them(self, method: str, pace: str):
        """Sends count per chat and per bot, edits per bot, the rest not at all."""
        assert pace_of(method) == pace


class TestRetryAfter:
    async def test_a_429_waits_retry_after_and_tries_again(self, sender, time_):
        """The call that met a 429 is sent again after `retry_after` seconds."""
        send = Script(too_many(3))
        assert await sender.call(send, chat=1) == "ok"
        assert (send.calls, time_.slept) == (2, [3.0])

    async def test_the_whole_chat_waits_out_a_429(self, time_):
        """After a 429 in a chat, every call to that chat waits; other chats do not."""
        sender = Sender(attempts=1, clock=time_.clock, sleep=time_.sleep)
        with pytest.raises(TelegramRetryAfter):
            await sender.call(Script(too_many(2)), chat=1)
        await sender.call(Script(), chat=2)
        assert time_.slept == []
        await sender.call(Script(), chat=1, pace="free")
        assert time_.slept == [2.0]

    async def test_retries_are_bounded(self, time_):
        """After `attempts` 429s in a row the error reaches the caller."""
        sender = Sender(attempts=3, clock=time_.clock, sleep=time_.sleep)
        send = Script(*(too_many() for _ in range(5)))
        with pytest.raises(TelegramRetryAfter):
            await sender.call(send, chat=1)
        assert send.calls == 3

    async def test_a_long_retry_after_fails_at_once(self, sender, time_):
        """A wait longer than `longest_wait` is not slept through in a handler."""
        send = Script(too_many(3600))
        with pytest.raises(TelegramRetryAfter):
            await sender.call(send, chat=1)
        assert (send.calls, time_.slept) == (1, [])


class TestAnswerModels:
    async def test_the_answer_model_of_a_method_called_is_kept(self, tg: TelegramEmulator):
        """pydantic holds `Response[...]` weakly; once the bot called a method, its answer
        model survives a garbage collection, so the next call does not build it again."""
        tg.user(USER, first_name="Ann")
        bot = make_bot(tg.token, api_base_url=tg.base_url)
        try:
            await bot.send_message(USER, "hello")
        finally:
            await bot.session.close()
        model = weakref.ref(Response[Message])  # what SendMessage answers
        gc.collect()
        assert model() is not None


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    """Flood control on a manual clock, one message per chat before it refuses."""
    async with run_telegram_emulator(clock=ManualClock(), chat_burst=1) as emu:
        yield emu


@pytest.fixture
async def bot(tg: TelegramEmulator) -> AsyncIterator[Bot]:
    """The production bot, whose waits move the emulator's clock instead of sleeping."""
    clock = tg.clock
    assert isinstance(clock, ManualClock)
    client = make_bot(
        tg.token, api_base_url=tg.base_url, sender=Sender(clock=clock.now, sleep=tg.advance)
    )
    yield client
    await client.session.close()


class TestHandlerReplies:
    async def test_a_reply_that_meets_a_429_is_retried_and_arrives(
        self, en: Driver, tg: TelegramEmulator, bot: Bot
    ):
        """A handler's reply refused with 429 is sent again after retry_after and arrives."""
        await bot.send_message(USER, "earlier news")  # takes the chat's only token
        reply = await en.send("/start")
        assert (reply.text or "").startswith("👋")
        refused = [c for c in tg.calls_to("sendMessage") if not c.ok]
        assert [c.error_code for c in refused] == [429]
        assert len([c for c in tg.calls_to("sendMessage") if c.ok]) == 2


class TestBlockedUser:
    async def test_delivery_to_a_blocked_user_marks_them_and_stops(
        self, en: Driver, tg: TelegramEmulator
    ):
        """A 403 on delivery marks the user blocked; the job is closed, not retried."""
        await generate_image(en)
        [job] = await en.jobs()
        tg.block(USER)
        settled = await en.settle(job)
        assert settled.state is JobState.DELIVERED
        assert settled.next_check_at is None
        assert [c.error_code for c in tg.calls_to("sendPhoto")] == [403]
        assert (await en.services.store.users.get(TgUserId(USER))).blocked_bot
