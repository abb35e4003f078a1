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
