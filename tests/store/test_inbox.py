from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from trt.domain import TgUserId
from trt.store.base import Profile
from trt.store.inbox import Arrival, SqlInbox
from trt.store.sql import SqlStore
from trt.store.tables import users

LEASE = timedelta(minutes=1)


def update(n: int, sender: int | None = None) -> Arrival:
    who = None if sender is None else (TgUserId(sender), Profile(first_name="Ann", language="en"))
    return Arrival(n, {"update_id": n, "message": {"text": "/start"}}, who)


class TestInbox:
    async def test_a_batch_stores_each_new_update_once(self, store: SqlStore) -> None:
        """New ids are reported; an id seen before, or twice in one batch, is not new."""
        assert (await store.inbox.record_many([update(1), update(2)], claim=LEASE)).new == {1, 2}
        recorded = await store.inbox.record_many([update(2), update(3), update(3)], claim=LEASE)
        assert recorded.new == {3}

    async def test_senders_become_users_with_their_update(self, store: SqlStore) -> None:
        """The first update from someone registers them, in the same transaction; later
        ones (and a second sender's) report only who is new."""
        first = await store.inbox.record_many([update(1, 501), update(2, 501)], claim=LEASE)
        user = await store.users.get(TgUserId(501))
        assert first.new_users == {501: user}  # the record as stored
        assert (user.first_name, user.language, user.balance) == ("Ann", "en", 0)
        later = await store.inbox.record_many([update(3, 501), update(4, 502)], claim=LEASE)
        assert later.new_users.keys() == {502}
        restarted = SqlInbox(store.db)  # knows nobody yet: the database says who is new
        assert (await restarted.record_many([update(5, 501)], claim=LEASE)).new_users == {}

    async def test_a_newcomers_lone_update_registers_them_once(self, store: SqlStore) -> None:
        """A batch of one update from someone new (one statement on Postgres): recorded, and
        its sender reported new; the same update again is neither."""
        first = await store.inbox.record_many([update(1, 501)], claim=LEASE)
        assert (first.new, first.new_users) == ({1}, {501: await store.users.get(TgUserId(501))})
        again = await SqlInbox(store.db).record_many([update(1, 501)], claim=LEASE)
        assert (again.new, again.new_users) == (set(), {})
        other = await SqlInbox(store.db).record_many([update(2, 501)], claim=LEASE)
        assert (other.new, other.new_users) == ({2}, {})

    async def test_a_registered_sender_costs_no_insert_later(self, store: SqlStore) -> None:
        """The inbox remembers whom it registered (users are never deleted): a row removed
        behind its back shows that it does not try again; the visit read registers them."""
        await store.inbox.record_many([update(1, 501)], claim=LEASE)
        async with store.db.transaction() as conn:
            await conn.execute(delete(users).where(users.c.id == 501))
        assert (await store.inbox.record_many([update(2, 501)], claim=LEASE)).new == {2}
        assert await store.users.count() == 0
        visit = await store.visits.arrive(
            TgUserId(501), Profile(first_name="Ann"), form_key="k", free_day=None
        )
        assert visit.created

    async def test_recorded_updates_are_claimed_by_their_receiver(self, store: SqlStore):
        """A freshly recorded update is not stranded and cannot be claimed by another worker."""
        await store.inbox.record_many([update(7)], claim=LEASE)
        assert await store.inbox.claim(7, lease=LEASE) is None
        assert await store.inbox.stranded(older_than=timedelta(0)) == []

    async def test_an_expired_claim_is_recovered_once_then_done(self, store: SqlStore) -> None:
        """After its claim lapses an unprocessed update is stranded, claimable once, and
        gone from the stranded list once processed."""
        await store.inbox.record_many([update(9)], claim=-LEASE)  # already lapsed
        assert await store.inbox.stranded(older_than=timedelta(0)) == [9]
        assert await store.inbox.claim(9, lease=LEASE) == update(9).payload
        assert await store.inbox.claim(9, lease=LEASE) is None
        await store.inbox.done(9)
        assert await store.inbox.stranded(older_than=timedelta(0)) == []
