"""Broadcast storage on SQLite and Postgres: recipients chosen once, claimed once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trt.domain import BroadcastState, RecipientState, TgUserId
from trt.errors import BroadcastFinished, BroadcastNotFound
from trt.records import NewBroadcast
from trt.store.sql import SqlStore

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RU, EN, NONE = TgUserId(1), TgUserId(2), TgUserId(3)


async def _users(store: SqlStore) -> None:
    await store.users.ensure(RU, language="ru")
    await store.users.ensure(EN, language="en")
    await store.users.ensure(NONE)


async def _sending(store: SqlStore, language: str | None = None) -> int:
    record = await store.broadcasts.create(NewBroadcast("hi", "cli:test", language), now=NOW)
    assert await store.broadcasts.start(record.id, now=NOW)
    return record.id


class TestChoosingRecipients:
    async def test_every_user_once(self, store: SqlStore) -> None:
        """Without a language every user is a pending recipient; the total says how many."""
        await _users(store)
        record = await store.broadcasts.create(NewBroadcast("hi", "cli:test"), now=NOW)
        assert record.state is BroadcastState.QUEUED
        assert record.total == 3
        assert record.counts == {RecipientState.PENDING: 3}

    async def test_language_filter(self, store: SqlStore) -> None:
        """English reaches users without a language too (they read the bot in English)."""
        await _users(store)
        ru = await store.broadcasts.create(NewBroadcast("привет", "cli:test", "ru"), now=NOW)
        en = await store.broadcasts.create(NewBroadcast("hi", "cli:test", "en"), now=NOW)
        assert [r.user_id for r in await store.broadcasts.pending(ru.id)] == [RU]
        assert [r.user_id for r in await store.broadcasts.pending(en.id)] == [EN, NONE]

    async def test_audience_leaves_out_who_would_be_skipped(self, store: SqlStore) -> None:
        """Opted-out, blocked and banned users are not counted in a preview."""
        await _users(store)
        await store.users.ensure(TgUserId(4), language="en")
        await store.users.set_broadcast_opt_out(EN, True)
        await store.users.set_blocked_bot(NONE, True)
        await store.users.set_banned(TgUserId(4), True)
        assert await store.broadcasts.audience(None) == 1
        assert await store.broadcasts.audience("en") == 0

    async def test_pending_carries_the_flags(self, store: SqlStore) -> None:
        """Each pending recipient comes with whether to skip them now."""
        await _users(store)
        await store.users.set_broadcast_opt_out(RU, True)
        broadcast = await _sending(store)
        first = (await store.broadcasts.pending(broadcast))[0]
        assert (first.user_id, first.opted_out, first.blocked_bot) == (RU, True, False)
        assert (await store.users.get(RU)).broadcast_opt_out


class TestProgress:
    async def test_a_recipient_is_claimed_once(self, store: SqlStore) -> None:
        """The second claim of the same recipient fails: nobody is sent it twice."""
        await _users(store)
        broadcast = await _sending(store)
        assert await store.broadcasts.claim(broadcast, RU, now=NOW)
        assert not await store.broadcasts.claim(broadcast, RU, now=NOW)

    async def test_no_claim_before_start_or_after_cancel(self, store: SqlStore) -> None:
        """Only a broadcast being sent gives out claims."""
        await _users(store)
        queued = await store.broadcasts.create(NewBroadcast("hi", "cli:test"), now=NOW)
        assert not await store.broadcasts.claim(queued.id, RU, now=NOW)
        await store.broadcasts.start(queued.id, now=NOW)
        await store.broadcasts.cancel(queued.id, by="cli:test", now=NOW)
        assert not await store.broadcasts.claim(queued.id, RU, now=NOW)

    async def test_interrupted_claims_become_unknown(self, store: SqlStore) -> None:
        """A claim left by a stopped sender is unknown, and is never pending again; a late
        answer may still settle it."""
        await _users(store)
        broadcast = await _sending(store)
        await store.broadcasts.claim(broadcast, RU, now=NOW)
        assert await store.broadcasts.interrupted(now=NOW) == 1
        record = await store.broadcasts.get(broadcast)
        assert record.count(RecipientState.UNKNOWN) == 1
        assert RU not in [r.user_id for r in await store.broadcasts.pending(broadcast)]
        assert await store.broadcasts.settle(broadcast, RU, RecipientState.SENT, now=NOW)

    async def test_skip_only_from_pending(self, store: SqlStore) -> None:
        """A claimed recipient cannot be marked skipped afterwards."""
        await _users(store)
        broadcast = await _sending(store)
        await store.broadcasts.claim(broadcast, RU, now=NOW)
        assert not await store.broadcasts.settle(broadcast, RU, RecipientState.SKIPPED, now=NOW)
        assert await store.broadcasts.settle(broadcast, EN, RecipientState.SKIPPED, now=NOW)

    async def test_finish_once_nobody_is_left(self, store: SqlStore) -> None:
        """Done only when no recipient is pending or in flight, and only for one caller."""
        await _users(store)
        broadcast = await _sending(store, "ru")
        assert await store.broadcasts.finish(broadcast, now=NOW) is None
        await store.broadcasts.claim(broadcast, RU, now=NOW)
        assert await store.broadcasts.finish(broadcast, now=NOW) is None
        await store.broadcasts.settle(broadcast, RU, RecipientState.BLOCKED, now=NOW, error="x")
        done = await store.broadcasts.finish(broadcast, now=NOW)
        assert done is not None
        assert (done.state, done.counts) == (BroadcastState.DONE, {RecipientState.BLOCKED: 1})
        assert await store.broadcasts.finish(broadcast, now=NOW) is None


class TestLookups:
    async def test_next_active_is_the_oldest(self, store: SqlStore) -> None:
        """Broadcasts go out in the order they were queued; cancelled ones are passed over."""
        first = await store.broadcasts.create(NewBroadcast("1", "cli:test"), now=NOW)
        second = await store.broadcasts.create(NewBroadcast("2", "cli:test"), now=NOW)
        assert (await store.broadcasts.next_active()).id == first.id  # type: ignore[union-attr]
        await store.broadcasts.cancel(first.id, by="cli:test", now=NOW)
        assert (await store.broadcasts.next_active()).id == second.id  # type: ignore[union-attr]
        assert [b.id for b in await store.broadcasts.find()] == [second.id, first.id]

    async def test_cancelling_twice_or_unknown(self, store: SqlStore) -> None:
        """A finished broadcast cannot be cancelled; an unknown one is not found."""
        record = await store.broadcasts.create(NewBroadcast("1", "cli:test"), now=NOW)
        await store.broadcasts.cancel(record.id, by="cli:test", now=NOW)
        with pytest.raises(BroadcastFinished):
            await store.broadcasts.cancel(record.id, by="cli:test", now=NOW)
        with pytest.raises(BroadcastNotFound):
            await store.broadcasts.get(999)
