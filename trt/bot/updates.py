"""Telegram updates in: the inbox first, then the dispatcher, once per update_id.

Webhook and polling both go through `receive`; the leader also re-processes updates a crash
left unprocessed, and prunes old ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update

from trt.bot.texts import language_of
from trt.core.metrics import Metrics
from trt.core.workers import WorkerPool
from trt.domain import TgUserId, storable_id
from trt.store.base import Profile, UserRecord
from trt.store.inbox import Arrival, SqlInbox

logger = logging.getLogger(__name__)

KEEP = timedelta(days=7)
WORKERS = 4
BATCH = 500
QUEUE_CAPACITY = 10_000

# (update_id, payload or None for a stranded update the worker must claim, the sender's
# record when recording the update created it)
Item = tuple[int, dict[str, Any] | None, UserRecord | None]


class UpdateProcessor:
    """`recovery`: how old an unclaimed, unprocessed update must be before the leader takes
    it as stranded; a worker's claim lasts twice that, so a live worker keeps its update."""

    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        inbox: SqlInbox,
        metrics: Metrics,
        *,
        recovery: timedelta = timedelta(seconds=30),
    ) -> None:
        self.bot = bot
        self.dp = dp
        self.inbox = inbox
        self.metrics = metrics
        self.recovery = recovery
        # A few workers, not a task per update: a burst of updates then queues instead of
        # starving the webhook endpoint of the event loop and the database.
        self.pool: WorkerPool[Item] = WorkerPool(
            self._process, workers=WORKERS, capacity=QUEUE_CAPACITY
        )

        # Group commit: updates arriving while one batch is being written go into the next,
        # so a burst costs one transaction per batch instead of one per update.
        self._waiting: list[tuple[Arrival, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.pool.start()

    async def receive(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Record (and claim) the update and queue it; False for a repeated update_id.

        Returns only once the update is stored. When the queue is full the claim simply
        expires and the leader's recovery takes the update.
        """
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((Arrival(update_id, payload, sender_of(payload)), stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        new = await stored
        self.metrics.inc("trt_updates_total", outcome="new" if new else "duplicate")
        return new

    async def _write_batches(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                recorded = await self.inbox.record_many(
                    [arrival for arrival, _ in batch], claim=2 * self.recovery
                )
            except Exception as exc:  # every waiting POST gets the error (a 500, retried)
                for _, stored in batch:
                    stored.set_exception(exc)
                continue
            first: set[int] = set()
            for arrival, stored in batch:  # a repeat within one batch is a duplicate
                update_id, sender = arrival.update_id, arrival.sender
                new = update_id in recorded.new and update_id not in first
                if new:  # queued before the POSTs are answered: the reply comes first
                    registered = recorded.new_users.get(sender[0]) if sender else None
                    self.pool.offer((update_id, arrival.payload, registered))
                stored.set_result(new)
                first.add(update_id)

    async def _process(self, item: Item) -> None:
        update_id, payload, registered = item
        if payload is None:  # a stranded update: claim it first
            payload = await self.inbox.claim(update_id, lease=2 * self.recovery)
            if payload is None:
                return  # processed already, or another worker holds it
        try:
            update = Update.model_validate(payload, context={"bot": self.bot})
            await self.dp.feed_update(self.bot, update, registered=registered)
        except Exception:  # a handler bug must not wedge the inbox: log it and move on
            logger.exception("update %s failed in the bot", update_id)
        await self.inbox.done(update_id)

    async def recover(self) -> None:
        """Process updates a crash left unprocessed (leader only)."""
        for update_id in await self.inbox.stranded(older_than=self.recovery):
            self.pool.offer((update_id, None, None))

    async def prune(self) -> None:
        removed = await self.inbox.prune(older_than=KEEP)
        if removed:
            logger.info("pruned %d processed updates", removed)

    async def drain(self, seconds: float) -> None:
        """Wait (at most `seconds`) for queued updates, then stop the workers."""
        await self.pool.drain(seconds)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll getUpdates until `stop` (the leader alone does this: no 409s)."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        allowed = self.dp.resolve_used_update_types()
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=allowed
                )
            except (TelegramNetworkError, TelegramAPIError) as exc:
                logger.warning("getUpdates failed: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=5)
                continue
            for update in updates:
                await self.receive(
                    update.update_id, update.model_dump(mode="json", exclude_none=True)
                )
                offset = update.update_id + 1


def sender_of(payload: dict[str, Any]) -> tuple[TgUserId, Profile] | None:
    """The person who sent an update (its event's `from`, or a poll answer's `user`)."""
    for key, event in payload.items():
        person = (event.get("from") or event.get("user")) if isinstance(event, dict) else None
        if key != "update_id" and isinstance(person, dict) and not person.get("is_bot"):
            user_id = person.get("id")
            if storable_id(user_id) and user_id:
                return TgUserId(user_id), _profile(person)
    return None


def _profile(person: dict[str, Any]) -> Profile:
    def text(name: str) -> str | None:
        value = person.get(name)
        return value if isinstance(value, str) else None

    return Profile(text("username"), text("first_name"), language_of(text("language_code")))
