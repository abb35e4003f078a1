from __future__ import annotations

from datetime import timedelta

from trt.store.sql import SqlStore

LEASE = timedelta(minutes=1)


def update(n: int) -> tuple[int, dict[str, object]]:
    return n, {"update_id": n, "message": {"text": "/start"}}


class TestInbox:
    async def test_a_batch_stores_each_new_update_once(self, store: SqlStore) -> None:
        """New ids are reported; an id seen before, or twice in one batch, is not new."""
        assert await store.inbox.record_many([update(1), update(2)], claim=LEASE) == {1, 2}
        new = await store.inbox.record_many([update(2), update(3), update(3)], claim=LEASE)
        assert new == {3}

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
        assert await store.inbox.claim(9, lease=LEASE) == update(9)[1]
        assert await store.inbox.claim(9, lease=LEASE) is None
        await store.inbox.done(9)
        assert await store.inbox.stranded(older_than=timedelta(0)) == []
