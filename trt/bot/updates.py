"""Telegram updates in: the inbox first, then the dispatcher, exactly once per update.

Webhook and polling both go through `receive`. A worker claims a stored update when it
starts it, with a lease this process renews while it holds any; one user's updates run one
at a time, in order (`SerialPool` here, the inbox's claim across instances). Every instance
also recovers what nobody holds: updates a crashed process left, or a busy one did not
start within the grace, at the rate its workers process live ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update
from pydantic import ValidationError

from trt.bot.free import today
from trt.bot.middlewares import ReadAhead, expected_visit
from trt.core.metrics import Metrics
from trt.core.repos import InboxRepo
from trt.core.supervisor import Supervisor
from trt.core.workers import SerialPool
from trt.domain import storable_id
from trt.errors import DatabaseUnavailable
from trt.records import Arrival, Claim, Outcome, Pending, VisitQuery

logger = logging.getLogger(__name__)

WORKERS = 4
BATCH = 500  # updates written in one group commit, and recovered per look
QUEUE_CAPACITY = 10_000
LEASE = timedelta(seconds=15)  # a dead worker's update is free again this long after it died
GRACE = timedelta(seconds=3)  # a stored update is left this long to the instance that took it
RECOVERY_INTERVAL = 1.0  # seconds between looks for stranded updates while there are none
# Names of the supervised tasks and episodes (what /health lists while they fail).
RECOVERY, RENEWAL, PROCESSING = "inbox recovery", "inbox lease renewal", "update processing"


class UpdateProcessor:
    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        inbox: InboxRepo,
        metrics: Metrics,
        *,
        lease: timedelta = LEASE,
        grace: timedelta = GRACE,
        workers: int = WORKERS,
        capacity: int = QUEUE_CAPACITY,
        supervisor: Supervisor | None = None,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        self.bot = bot
        # Visits read with an update's claim, for `UserMiddleware` (see `expected_visit`).
        self.read_ahead = read_ahead
        self.dp = dp
        self.inbox = inbox
        self.metrics = metrics
        self.lease = lease
        self.grace = grace
        self.owner = secrets.token_hex(8)  # this process's claims; a restart is a new owner
        self.claim = Claim(self.owner, lease)
        # A few workers, not a task per update: a burst of updates then queues instead of
        # starving the webhook endpoint of the event loop and the database.
        self.pool: SerialPool[object, Pending] = SerialPool(
            self._process, workers=workers, capacity=capacity
        )
        self._here: set[int] = set()  # seqs queued or running in this process
        self._handled: set[int] = set()  # seqs of those whose handlers have returned
        self.supervisor = supervisor or Supervisor()
        # One log line per database outage, however many updates meet it.
        self.episode = self.supervisor.episode(PROCESSING)
        self._found = 0  # what the last look for stranded updates offered
        self._recoveries = 0  # looks that offered any (a visit read meanwhile may be stale)
        # Group commit: updates arriving while one batch is being written go into the next,
        # so a burst costs one transaction per batch instead of one per update.
        self._waiting: list[tuple[Arrival, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.pool.start()
        self.supervisor.every(RECOVERY, self._recover_once, interval=self._next_look)
        renew_every = self.lease.total_seconds() / 3
        self.supervisor.every(RENEWAL, self._renew_once, interval=renew_every)

    async def receive(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Record the update and queue it; False for a repeated delivery.

        Returns only once the update is stored. When the queue is full the update waits in
        the inbox, and recovery (here or on another instance) takes it.
        Raises: DatabaseUnavailable, or why this update alone could not be stored.
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
            recoveries = self._recoveries
            arrivals = self._starting([arrival for arrival, _ in batch])
            try:
                outcomes = await self.inbox.record_many(arrivals, claim=self.claim)
            except Exception as exc:  # every waiting POST gets the error (a 503, retried)
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(exc)
                continue
            if self._recoveries != recoveries:  # a sender's earlier update may now run first
                outcomes = [_unread(outcome) for outcome in outcomes]
            for (_, stored), outcome in zip(batch, outcomes, strict=True):
                if stored.done():  # its POST was given up (client gone): the row is stored
                    if isinstance(outcome, Pending):
                        self._offer(outcome)
                elif isinstance(outcome, Pending):  # queued before the POST is answered
                    self._offer(outcome)
                    stored.set_result(True)
                elif outcome is None:
                    stored.set_result(False)
                else:
                    stored.set_exception(outcome)

    def _starting(self, arrivals: list[Arrival]) -> list[Arrival]:
        """Mark the arrivals a worker will start as soon as they are stored (an idle one, or
        the one running their sender's previous update): they are claimed in the storing
        transaction, one transaction less before the reply. The rest are claimed when a
        worker starts them, so another instance may recover them meanwhile."""
        idle, keys = self.pool.idle, set[object]()
        marked = []
        for arrival in arrivals:
            key = _key(arrival.user_id, arrival.update_id)
            following = self.pool.holds(key)
            start = key not in keys and (following or idle > 0)
            if start:
                idle -= 0 if following else 1
                keys.add(key)
            visit = self._expected_visit(arrival) if start and self._settled(key) else None
            marked.append(replace(arrival, start=start, visit=visit))
        return marked

    def _settled(self, key: object) -> bool:
        """Whether a visit read now is what the sender's next update will find: no update
        of theirs is queued or running here, or only one whose handlers have returned (its
        `done` changes nothing a visit reads)."""
        line = self.pool.line(key)
        return not line or (len(line) == 1 and line[0].seq in self._handled)

    def _expected_visit(self, arrival: Arrival) -> VisitQuery | None:
        if self.read_ahead is None:
            return None
        return expected_visit(self.bot.id, arrival.payload, day=today())

    def _offer(self, pending: Pending) -> bool:
        if pending.seq in self._here:
            return True
        key = _key(pending.user_id, pending.update_id)
        # An update claimed as it was stored is this process's to run: it is never refused.
        if not self.pool.offer(key, pending, beyond_capacity=pending.payload is not None):
            return False
        self._here.add(pending.seq)
        return True

    async def _process(self, pending: Pending) -> None:
        try:
            await self._claim_and_run(pending)
        except DatabaseUnavailable as exc:
            # Not marked done: once its lease lapses, recovery (here or elsewhere) runs it
            # again, after the database is back.
            self.episode.failed(exc)
        else:
            self.episode.ok()
        finally:
            self._here.discard(pending.seq)
            self._handled.discard(pending.seq)

    async def _claim_and_run(self, pending: Pending) -> None:
        """Raises: DatabaseUnavailable, from the inbox or from a handler."""
        payload = pending.payload  # claimed as it was stored, or claim it now
        if payload is None:
            payload = await self.inbox.claim(pending.seq, owner=self.owner, lease=self.lease)
        if payload is None:  # processed, held elsewhere, or behind its sender's earlier one
            return
        update = self._parse(pending.update_id, payload)
        try:
            if update is not None:
                ahead = self.read_ahead or ReadAhead()  # without one, no visit is read ahead
                with ahead.holding(update, pending.visit):
                    await self.dp.feed_update(self.bot, update)
        except DatabaseUnavailable:
            raise
        except Exception:  # a handler bug must not wedge the inbox: log it and move on
            logger.exception("update %s failed in the bot", pending.update_id)
        self._handled.add(pending.seq)
        if not await self._mark_done(pending):
            logger.warning(
                "update %s: the lease lapsed while it ran; another worker may repeat it",
                pending.update_id,
            )

    def _parse(self, update_id: int, payload: dict[str, Any]) -> Update | None:
        try:
            return Update.model_validate(payload, context={"bot": self.bot})
        except ValidationError as exc:  # not an update Telegram sends: one line, no trace
            logger.warning(
                "update %s ignored: not a valid Telegram update (%d problems, first at %s)",
                update_id, exc.error_count(), _first_location(exc),
            )  # fmt: skip
            return None

    async def _mark_done(self, pending: Pending) -> bool:
        """Mark a handled update done, waiting out a database outage: giving up would have
        it run (and answered) again. Its claim is renewed meanwhile, as it is still here."""
        backoff = self.supervisor.backoff()
        while True:
            try:
                return await self.inbox.done(pending.seq, owner=self.owner)
            except DatabaseUnavailable as exc:
                self.episode.failed(exc)
                await asyncio.sleep(backoff.next())

    async def _recover_once(self) -> None:
        """Offer stranded updates, as many as the workers have room for."""
        self._found = 0
        await self.pool.wait_for_room(BATCH)
        found = await self.inbox.stranded(grace=self.grace, limit=BATCH)
        fresh = [p for p in found if p.seq not in self._here]
        self._found = sum(self._offer(p) for p in fresh)
        if self._found:
            self._recoveries += 1
            logger.info("recovering %d stored updates", self._found)

    def _next_look(self) -> float:
        """At once while a look fills a whole batch; every RECOVERY_INTERVAL otherwise."""
        return 0.0 if self._found >= BATCH else RECOVERY_INTERVAL

    async def _renew_once(self) -> None:
        """Keep this process's claims from lapsing while their updates run."""
        if self._here:
            await self.inbox.renew(self.owner, lease=self.lease)

    async def prune(self) -> None:
        removed = await self.inbox.prune()
        if removed:
            logger.info("pruned %d processed updates", removed)

    async def drain(self, seconds: float) -> None:
        """Wait (at most `seconds`) for queued updates, then stop. What is left stays in
        the inbox for another instance, or this one's next start."""
        # Recovery may be waiting for room that stopped workers never free.
        await self.supervisor.cancel(RECOVERY)
        await self.pool.drain(seconds)  # leases stay renewed while the last updates run
        await self.supervisor.cancel(RENEWAL)

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


def _unread(outcome: Outcome) -> Outcome:
    """`outcome` without the visit read with its claim (its update reads it again)."""
    if isinstance(outcome, Pending) and outcome.visit is not None:
        return replace(outcome, visit=None)
    return outcome


def _key(user_id: int | None, update_id: int) -> object:
    """The pool line of an update: its sender's, or its own when nobody sent it."""
    return user_id if user_id is not None else ("update", update_id)


def sender_of(payload: dict[str, Any]) -> int | None:
    """The person who sent an update (its event's `from`, or a poll answer's `user`)."""
    for key, event in payload.items():
        person = (event.get("from") or event.get("user")) if isinstance(event, dict) else None
        if key != "update_id" and isinstance(person, dict) and not person.get("is_bot"):
            user_id = person.get("id")
            if storable_id(user_id) and user_id:
                return int(user_id)
    return None


def _first_location(exc: ValidationError) -> str:
    errors = exc.errors(include_input=False, include_url=False)
    return ".".join(str(part) for part in errors[0]["loc"])[:80] if errors else "?"
