"""The Telegram update inbox (`SqlInbox`): dedupe, claims with leases, per-user order,
recovery and bad bytes. On SQLite and Postgres."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from trt.domain import TgUserId
from trt.records import Arrival, Claim, FormRow, Pending, Profile, VisitQuery
from trt.store.inbox import DEDUPE_WINDOW
from trt.store.sql import SqlStore
from trt.store.tables import telegram_updates

LEASE = timedelta(minutes=1)
NOW = timedelta(0)
DAY = date(2026, 12, 7)


def arrival(n: int, user: int | None = None, text: str = "/start") -> Arrival:
    return Arrival(n, {"update_id": n, "message": {"text": text}}, user)


async def record(store: SqlStore, *arrivals: Arrival) -> list[Pending]:
    outcomes = await store.inbox.record_many(arrivals)
    assert all(not isinstance(o, BaseException) for o in outcomes)
    return [o for o in outcomes if isinstance(o, Pending)]


async def record_claimed(store: SqlStore, *arrivals: Arrival) -> list[Pending]:
    outcomes = await store.inbox.record_many(arrivals, claim=Claim("a", LEASE))
    return [o for o in outcomes if isinstance(o, Pending)]


async def claim(store: SqlStore, pending: Pending, owner: str = "a") -> dict[str, Any] | None:
    return await store.inbox.claim(pending.seq, owner=owner, lease=LEASE)


async def age(store: SqlStore, by: timedelta) -> None:
    """Move every row's times back by `by`, as if that much time had passed."""
    table = telegram_updates
    async with store.db.transaction() as conn:
        rows = (
            await conn.execute(select(table.c.seq, table.c.received_at, table.c.claimed_until))
        ).all()
        for seq, received, claimed in rows:
            await conn.execute(
                update(table)
                .where(table.c.seq == seq)
                .values(received_at=received - by, claimed_until=claimed and claimed - by)
            )


class TestDedupe:
    async def test_a_repeated_delivery_is_a_duplicate(self, store: SqlStore) -> None:
        """A new update is stored once; the same id with the same payload again, even
        within one batch, is a duplicate (None)."""
        first = await store.inbox.record_many([arrival(1), arrival(2)])
        assert [p.update_id for p in first if isinstance(p, Pending)] == [1, 2]
        again = await store.inbox.record_many([arrival(2), arrival(3), arrival(3)])
        assert again[0] is None and again[2] is None
        assert isinstance(again[1], Pending) and again[1].update_id == 3

    async def test_an_old_id_with_a_new_payload_is_a_new_update(self, store: SqlStore) -> None:
        """An emulator restarted at 1, or Telegram's random id restart, reuses ids: a
        different payload under a known id is stored and run, not dropped."""
        (old,) = await record(store, arrival(1, 5, "hello"))
        assert await claim(store, old) is not None
        await store.inbox.done(old.seq, owner="a")
        (new,) = await record(store, arrival(1, 5, "a new message"))
        assert new.seq != old.seq
        assert await claim(store, new) == arrival(1, 5, "a new message").payload

    async def test_processed_updates_are_pruned_after_the_window(self, store: SqlStore) -> None:
        """Processed rows older than the dedupe window go; unprocessed ones never do."""
        done, waiting = await record(store, arrival(1), arrival(2))
        await claim(store, done)
        await store.inbox.done(done.seq, owner="a")
        assert await store.inbox.prune() == 0
        await age(store, DEDUPE_WINDOW + timedelta(minutes=1))
        assert await store.inbox.prune() == 1
        assert [p.seq for p in await store.inbox.stranded(grace=NOW)] == [waiting.seq]


class TestClaims:
    async def test_one_worker_at_a_time_then_done(self, store: SqlStore) -> None:
        """A claim holds against every other worker until done; then nobody gets it."""
        (pending,) = await record(store, arrival(7))
        assert await claim(store, pending, "a") == arrival(7).payload
        assert await claim(store, pending, "b") is None
        assert await store.inbox.stranded(grace=NOW) == []
        assert await store.inbox.done(pending.seq, owner="a")
        assert await claim(store, pending, "b") is None

    async def test_a_lapsed_lease_is_recovered_once(self, store: SqlStore) -> None:
        """A dead worker's claim lapses: the update is stranded, claimable by one other
        worker, and the dead one can no longer mark it done."""
        (pending,) = await record(store, arrival(9))
        await claim(store, pending, "dead")
        await age(store, LEASE + timedelta(seconds=1))
        assert await store.inbox.stranded(grace=NOW) == [pending]
        assert await claim(store, pending, "b") is not None
        assert await claim(store, pending, "c") is None
        assert not await store.inbox.done(pending.seq, owner="dead")
        assert await store.inbox.done(pending.seq, owner="b")

    async def test_a_renewed_lease_holds(self, store: SqlStore) -> None:
        """Renewing extends every unprocessed claim of the owner, and only its own."""
        a, b = await record(store, arrival(1), arrival(2))
        await claim(store, a, "a")
        await claim(store, b, "b")
        await age(store, LEASE - timedelta(seconds=1))
        assert await store.inbox.renew("a", lease=LEASE) == 1
        await age(store, timedelta(seconds=2))
        assert await store.inbox.stranded(grace=NOW) == [b]

    async def test_an_unclaimed_update_is_left_to_its_receiver_for_the_grace(
        self, store: SqlStore
    ) -> None:
        (pending,) = await record(store, arrival(3))
        assert await store.inbox.stranded(grace=timedelta(seconds=30)) == []
        await age(store, timedelta(seconds=31))
        assert await store.inbox.stranded(grace=timedelta(seconds=30)) == [pending]


class TestClaimedAsStored:
    """A worker that starts an update at once has it claimed in the storing transaction."""

    async def test_a_starting_arrival_is_claimed_with_its_payload(self, store: SqlStore) -> None:
        start = replace(arrival(1, user=5), start=True)
        claimed, queued = await record_claimed(store, start, arrival(2, user=6))
        assert claimed.payload == start.payload
        assert queued.payload is None  # a queued one is claimed when a worker starts it
        assert await claim(store, claimed, "b") is None
        assert await store.inbox.stranded(grace=NOW) == [queued]
        assert await store.inbox.done(claimed.seq, owner="a")

    async def test_the_lease_of_a_claim_as_stored_lapses_like_any(self, store: SqlStore) -> None:
        (claimed,) = await record_claimed(store, replace(arrival(1), start=True))
        await age(store, LEASE + timedelta(seconds=1))
        assert [p.seq for p in await store.inbox.stranded(grace=NOW)] == [claimed.seq]

    async def test_not_claimed_while_its_senders_earlier_update_waits(
        self, store: SqlStore
    ) -> None:
        """Per-sender order holds for a claim as stored too (the earlier may be another
        instance's)."""
        (earlier,) = await record(store, arrival(1, user=5))
        (later,) = await record_claimed(store, replace(arrival(2, user=5), start=True))
        assert later.payload is None
        assert await claim(store, later) is None
        assert await claim(store, earlier) is not None

    async def test_claimed_behind_the_owners_own_earlier_update(self, store: SqlStore) -> None:
        """The owner runs its own earlier update first (its worker line keeps the order), so
        the later one is claimed as stored; another owner's earlier claim still blocks it."""
        (mine,) = await record_claimed(store, replace(arrival(1, user=5), start=True))
        (later,) = await record_claimed(store, replace(arrival(2, user=5), start=True))
        assert later.payload is not None
        (theirs,) = await record(store, arrival(3, user=6))
        assert await claim(store, theirs, "b") is not None
        (blocked,) = await record_claimed(store, replace(arrival(4, user=6), start=True))
        assert blocked.payload is None
        assert mine.payload is not None

    async def test_the_senders_visit_is_read_with_the_claim(self, store: SqlStore) -> None:
        """An arrival that asks for its sender's visit gets it with the claim: the user
        registered on first contact, then their form, and their names kept current."""
        ann = VisitQuery(TgUserId(5), Profile("ann", "Ann", "en"), "1:5:5::::default", DAY)
        bob = replace(ann, user_id=TgUserId(6), form_key="1:6:6::::default")
        first, queued = await record_claimed(
            store, replace(arrival(1, user=5), start=True, visit=ann),
            replace(arrival(2, user=6), visit=bob),
        )  # fmt: skip
        assert first.visit is not None and queued.visit is None  # queued: read when it runs
        assert (first.visit.created, first.visit.user.first_name) == (True, "Ann")
        assert (first.visit.form, first.visit.form_key) == (None, ann.form_key)
        assert await store.inbox.done(first.seq, owner="a")
        await store.forms.save(ann.form_key, FormRow("Flow:asking", {"model": "m"}))
        renamed = replace(ann, profile=Profile("ann", "Anna", "en"))
        (second,) = await record_claimed(
            store, replace(arrival(3, user=5), start=True, visit=renamed)
        )
        assert second.visit is not None
        assert (second.visit.created, second.visit.user.first_name) == (False, "Anna")
        assert second.visit.form == FormRow("Flow:asking", {"model": "m"})
        assert (await store.users.get(TgUserId(5))).first_name == "Anna"

    async def test_no_visit_without_the_claim(self, store: SqlStore) -> None:
        """Refused a claim (the sender's earlier update waits), an arrival reads nothing:
        what it would read may still change."""
        ann = VisitQuery(TgUserId(5), Profile("ann", "Ann", "en"), "1:5:5::::default", DAY)
        await record(store, arrival(1, user=5))
        (later,) = await record_claimed(store, replace(arrival(2, user=5), start=True, visit=ann))
        assert (later.payload, later.visit) == (None, None)

    async def test_a_repeated_delivery_is_not_claimed_again(self, store: SqlStore) -> None:
        (first,) = await record_claimed(store, replace(arrival(1), start=True))
        assert await store.inbox.record_many(
            [replace(arrival(1), start=True)], claim=Claim("b", LEASE)
        ) == [None]
        assert await claim(store, first, "b") is None


class TestOrder:
    async def test_a_users_later_update_waits_for_the_earlier(self, store: SqlStore) -> None:
        """While an earlier update of the same sender is unprocessed, a later one cannot
        be claimed (on any instance); another sender's can."""
        first, second, other = await record(
            store, arrival(10, user=5), arrival(11, user=5), arrival(12, user=6)
        )
        assert await claim(store, second) is None
        assert await claim(store, other) is not None
        assert await claim(store, first) is not None
        assert await claim(store, second, "b") is None  # the first still runs
        await store.inbox.done(first.seq, owner="a")
        assert await claim(store, second, "b") is not None

    async def test_stranded_updates_come_in_id_order(self, store: SqlStore) -> None:
        await record(store, arrival(30, 1), arrival(10, 2), arrival(20, 1))
        found = await store.inbox.stranded(grace=NOW)
        assert [p.update_id for p in found] == [10, 20, 30]
        assert [p.user_id for p in found] == [2, 1, 1]


class TestBadBytes:
    async def test_a_payload_with_nul_or_a_lone_surrogate_is_stored_cleaned(
        self, store: SqlStore
    ) -> None:
        """Postgres refuses NUL and no UTF-8 column holds a lone surrogate: both become
        U+FFFD, and the batch around them is stored."""
        odd = Arrival(2, {"update_id": 2, "message": {"text": "a\x00b\udc80", "n\x00": 1}}, 5)
        stored = await record(store, arrival(1), odd, arrival(3))
        assert [p.update_id for p in stored] == [1, 2, 3]
        payload = await claim(store, stored[1])
        assert payload == {"update_id": 2, "message": {"text": "a\ufffdb\ufffd", "n\ufffd": 1}}

    async def test_a_row_the_database_refuses_fails_alone(self, store: SqlStore) -> None:
        """An update_id past 64 bits cannot be stored: that arrival gets the error, the
        others of its batch are stored."""
        outcomes = await store.inbox.record_many([arrival(1), arrival(2**63), arrival(3)])
        assert isinstance(outcomes[1], BaseException)
        assert [o.update_id for o in outcomes if isinstance(o, Pending)] == [1, 3]
