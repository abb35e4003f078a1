"""The server's leader sends queued broadcasts, one after another.

Pace: at most BROADCAST_PER_SECOND messages a second, through the bot's own session, so
its flood control counts them with every reply and delivery (Telegram allows about 30 a
second per bot); what the broadcast leaves stays with live traffic.

Exactly once, as far as Telegram allows: it has no idempotency key, so a recipient is
claimed (`sending`, committed) before the message goes out and settled after. A crash,
a kill -9 or lost leadership between the two leaves the claim; the next sender reports
it as `unknown` and never sends it again. At most SLOTS messages are in flight at once,
so at most SLOTS recipients can end up unknown per interruption.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from trt.core.ports import AnnouncementUncertain, Announcer, Clock
from trt.core.repos import BroadcastRepo
from trt.core.schedule import RateLimiter
from trt.domain import BroadcastState, RecipientState
from trt.logs import log_event
from trt.records import BroadcastRecord, Recipient

logger = logging.getLogger(__name__)

SLOTS = 5  # messages in flight at once: enough for 20/s at 250 ms per call
BATCH = 200  # recipients read at a time
IDLE_SECONDS = 2.0  # how often an idle leader looks for a new broadcast


def utc_now() -> datetime:
    return datetime.now(UTC)


class Broadcaster:
    def __init__(
        self,
        repo: BroadcastRepo,
        announcer: Announcer,
        *,
        per_second: float,
        clock: Clock = utc_now,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.repo = repo
        self.announcer = announcer
        self.limiter = RateLimiter(per_second)
        self.clock = clock
        self.idle_seconds = idle_seconds
        self._draining = False
        self._in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def drain(self, within: float) -> None:
        """Claim nothing more and wait (up to `within` seconds) for the messages in flight,
        so a graceful stop leaves no recipient unknown."""
        self._draining = True
        try:
            await asyncio.wait_for(self._quiet.wait(), within)
        except TimeoutError:
            logger.warning("broadcast: %d messages still in flight at shutdown", self._in_flight)

    async def run(self) -> None:
        """Send broadcasts until cancelled (leadership lost, shutdown). Raises what
        stopped it (AnnouncementUncertain, the database's errors) for the supervisor."""
        await self._resume()
        while True:
            if self._draining or not await self.step():
                await asyncio.sleep(self.idle_seconds)

    async def step(self) -> bool:
        """Send the oldest active broadcast to its end (or its cancellation); False when
        none is active."""
        broadcast = await self.repo.next_active()
        if broadcast is None:
            return False
        if broadcast.state is BroadcastState.QUEUED:
            await self.repo.start(broadcast.id, now=self.clock())
            log_event(logger, "broadcast_started", broadcast_id=broadcast.id,
                      recipients=broadcast.total)  # fmt: skip
        await self._send_all(broadcast)
        done = await self.repo.finish(broadcast.id, now=self.clock())
        if done is not None:
            _log_report(done)
            await self.announcer.report(done)
        return True

    async def _resume(self) -> None:
        uncertain = await self.repo.interrupted(now=self.clock())
        if uncertain:
            log_event(
                logger, "broadcast_interrupted", level=logging.WARNING, recipients=uncertain,
                reason="in flight when sending stopped: reported unknown, not sent again",
            )  # fmt: skip

    async def _send_all(self, broadcast: BroadcastRecord) -> None:
        after = -1
        while True:
            batch = await self.repo.pending(broadcast.id, after=after, limit=BATCH)
            current = await self.repo.get(broadcast.id)
            if not batch or current.state is not BroadcastState.SENDING or self._draining:
                return
            after = batch[-1].user_id
            await self._send_batch(broadcast, batch)

    async def _send_batch(self, broadcast: BroadcastRecord, batch: list[Recipient]) -> None:
        """The batch through SLOTS senders. An uncertain send stops each slot after its
        current message (no new claims); any other error cancels the rest."""
        turns, uncertain = iter(batch), list[AnnouncementUncertain]()

        async def slot(turns: Iterator[Recipient]) -> None:
            for recipient in turns:
                if uncertain or self._draining:
                    return
                try:
                    await self._one(broadcast, recipient)
                except AnnouncementUncertain as exc:
                    uncertain.append(exc)

        tasks = [asyncio.ensure_future(slot(turns)) for _ in range(min(SLOTS, len(batch)))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if uncertain:
            raise uncertain[0]

    async def _one(self, broadcast: BroadcastRecord, recipient: Recipient) -> None:
        user_id = recipient.user_id
        reason = _skip_reason(recipient)
        if reason is not None:
            await self.repo.settle(
                broadcast.id, user_id, RecipientState.SKIPPED, now=self.clock(), error=reason
            )
            return
        await self.limiter.wait()  # before the claim: the claim stays one send long
        if self._draining:
            return
        self._in_flight += 1
        self._quiet.clear()
        try:
            await self._send(broadcast, recipient)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._quiet.set()

    async def _send(self, broadcast: BroadcastRecord, recipient: Recipient) -> None:
        user_id = recipient.user_id
        if not await self.repo.claim(broadcast.id, user_id, now=self.clock()):
            return  # cancelled meanwhile
        try:
            outcome, error = await self.announcer.announce(user_id, broadcast.text)
        except AnnouncementUncertain as exc:
            await self.repo.settle(
                broadcast.id, user_id, RecipientState.UNKNOWN, now=self.clock(), error=str(exc)
            )
            raise
        await self.repo.settle(broadcast.id, user_id, outcome, now=self.clock(), error=error)
        if outcome is RecipientState.FAILED:
            log_event(
                logger, "broadcast_refused", level=logging.WARNING,
                broadcast_id=broadcast.id, user_id=user_id, reason=error,
            )  # fmt: skip


def _skip_reason(recipient: Recipient) -> str | None:
    if recipient.opted_out:
        return "opted out"
    if recipient.blocked_bot:
        return "blocked the bot"
    if recipient.banned:
        return "banned"
    return None


def _log_report(done: BroadcastRecord) -> None:
    seconds = None
    if done.started_at and done.finished_at:
        seconds = round((done.finished_at - done.started_at).total_seconds(), 1)
    log_event(
        logger, "broadcast_done", broadcast_id=done.id, by=done.created_by,
        recipients=done.total, sent=done.count(RecipientState.SENT),
        blocked=done.count(RecipientState.BLOCKED), failed=done.count(RecipientState.FAILED),
        skipped=done.count(RecipientState.SKIPPED), unknown=done.count(RecipientState.UNKNOWN),
        seconds=seconds,
    )  # fmt: skip
