"""The update processor's own loops (`UpdateProcessor`), over an inbox that never answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiogram import Bot, Dispatcher

from trt.bot.updates import BATCH, UpdateProcessor
from trt.core.metrics import Metrics
from trt.records import Arrival, Outcome, Pending


class StuckInbox:
    """Every update is stranded, and a claim never returns: workers hang on it."""

    def __init__(self, workers: int) -> None:
        self.claims = 0
        self.all_stuck = asyncio.Event()  # every worker waits in a claim
        self.workers = workers
        self.never = asyncio.Event()

    async def record_many(
        self, arrivals: Sequence[Arrival], *, claim: Any = None
    ) -> list[Outcome]:
        return [Pending(a.update_id, a.update_id, a.user_id) for a in arrivals]

    async def claim(self, seq: int, *, owner: str, lease: Any) -> dict[str, Any] | None:
        self.claims += 1
        if self.claims == self.workers:
            self.all_stuck.set()
        await self.never.wait()
        return None

    async def renew(self, owner: str, *, lease: Any) -> int:
        return 0

    async def done(self, seq: int, *, owner: str) -> bool:
        return True

    async def stranded(self, *, grace: Any, limit: int = 200) -> list[Pending]:
        return [Pending(n, n, n) for n in range(1, limit + 1)]

    async def prune(self) -> int:
        return 0


async def test_drain_ends_while_recovery_waits_for_room(bot: Bot) -> None:
    """With every worker stuck and the queue full, recovery waits for room that never
    comes; stopping must not wait for it (a SIGTERM under a backlog used to hang)."""
    inbox = StuckInbox(workers=2)
    updates = UpdateProcessor(bot, Dispatcher(), inbox, Metrics(), workers=2, capacity=BATCH)
    updates.start()
    await asyncio.wait_for(inbox.all_stuck.wait(), timeout=5)
    assert updates.pool.pending == BATCH  # full: recovery now waits for room
    await asyncio.wait_for(updates.drain(0.05), timeout=5)


class RecordingInbox:
    """Stores every update as new and records which were claimed and marked done."""

    def __init__(self) -> None:
        self.claimed: list[int] = []
        self.done_seqs: list[int] = []
        self.payloads: dict[int, dict[str, Any]] = {}
        self.finished = asyncio.Event()  # set whenever a worker finishes an update

    async def record_many(
        self, arrivals: Sequence[Arrival], *, claim: Any = None
    ) -> list[Outcome]:
        for a in arrivals:
            self.payloads[a.update_id] = a.payload
        return [Pending(a.update_id, a.update_id, a.user_id) for a in arrivals]

    async def claim(self, seq: int, *, owner: str, lease: Any) -> dict[str, Any] | None:
        self.claimed.append(seq)
        return self.payloads[seq]

    async def renew(self, owner: str, *, lease: Any) -> int:
        return 0

    async def done(self, seq: int, *, owner: str) -> bool:
        self.done_seqs.append(seq)
        return True

    async def stranded(self, *, grace: Any, limit: int = 200) -> list[Pending]:
        return []

    async def prune(self) -> int:
        return 0


def start_update(update_id: int) -> dict[str, Any]:
    user = {"id": 77, "is_bot": False, "first_name": "U"}
    message = {"message_id": 1, "date": 0, "text": "/start", "from": user,
               "chat": {"id": 77, "type": "private"}}  # fmt: skip
    return {"update_id": update_id, "message": message}


async def test_an_update_whose_handler_met_a_database_outage_is_not_done(bot: Bot) -> None:
    """A handler failing with DatabaseUnavailable passes through the error router (no
    apology is sent) and its update is not marked done, so recovery runs it again; the
    same update succeeding later is marked done."""
    from aiogram import Router

    from trt.bot import errors
    from trt.errors import DatabaseUnavailable

    outages = [DatabaseUnavailable("db.example:5432/trt", "connection refused")]
    handled: list[int] = []
    router = Router()

    @router.message()
    async def handler(message: Any) -> None:
        if outages:
            raise outages.pop()
        handled.append(message.message_id)

    dp = Dispatcher()
    dp.include_routers(router, errors.make_router())
    inbox = RecordingInbox()
    updates = UpdateProcessor(bot, dp, inbox, Metrics(), workers=1, capacity=10)
    updates.start()
    try:
        await updates.receive(5, start_update(5))
        await asyncio.wait_for(wait_until(lambda: not updates.pool.pending), timeout=5)
        assert (inbox.claimed, inbox.done_seqs, handled) == ([5], [], [])
        assert updates.episode.failing
        updates._offer(Pending(5, 5, 77))  # what recovery does once the lease lapsed
        await asyncio.wait_for(wait_until(lambda: bool(inbox.done_seqs)), timeout=5)
        assert (inbox.done_seqs, handled, updates.episode.failing) == ([5], [1], False)
    finally:
        await updates.drain(1)


async def wait_until(condition: Any) -> None:
    while not condition():  # noqa: ASYNC110 - the workers signal nothing to await
        await asyncio.sleep(0.005)
