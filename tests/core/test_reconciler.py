"""The reconciler's hold on leadership: a failing lock or a hung pass gives it up cleanly,
and the next turn competes again."""

from __future__ import annotations

import asyncio

import pytest

from tests.core.conftest import CHAT, USER, Rig
from trt.core.reconciler import LeaderStuck, Reconciler
from trt.domain import JobState
from trt.errors import DatabaseUnavailable
from trt.records import JobRecord


class FakeLock:
    """Implements LeaderLock: can be broken (the database is away) or hung (its check
    never answers)."""

    def __init__(self) -> None:
        self.held = False
        self.broken = False
        self.hung = False
        self.releases = 0

    async def try_acquire(self) -> bool:
        if self.hung:
            await asyncio.Event().wait()
        if self.broken:
            self.held = False  # the server frees an advisory lock with its connection
            raise DatabaseUnavailable("db.example:5432/trt", "connection refused")
        self.held = True
        return True

    async def still_held(self) -> bool:
        return self.held

    async def release(self) -> None:
        self.releases += 1
        self.held = False


class Leadership:
    def __init__(self) -> None:
        self.changes: list[bool] = []

    async def __call__(self, leader: bool) -> None:
        self.changes.append(leader)


@pytest.fixture
def lock() -> FakeLock:
    return FakeLock()


@pytest.fixture
def changes() -> Leadership:
    return Leadership()


def reconciler(rig: Rig, lock: FakeLock, changes: Leadership, **options: float) -> Reconciler:
    return Reconciler(rig.gen, lock, on_leadership=changes, **options)


class TestLeadership:
    async def test_a_lock_failure_drops_leadership_and_the_next_turn_regains_it(
        self, rig: Rig, lock: FakeLock, changes: Leadership
    ) -> None:
        """The database going away ends leadership (the error reaches the supervisor);
        once it is back the next turn leads again."""
        rec = reconciler(rig, lock, changes)
        await rec.step()
        assert rec.is_leader
        lock.broken = True
        with pytest.raises(DatabaseUnavailable):
            await rec.step()
        assert not rec.is_leader
        lock.broken = False
        await rec.step()
        assert rec.is_leader
        assert changes.changes == [True, False, True]

    async def test_an_unanswered_lock_check_gives_up_leadership(
        self, rig: Rig, lock: FakeLock, changes: Leadership
    ) -> None:
        """A lock check that hangs past `stuck_after` releases the lock and stops leading."""
        rec = reconciler(rig, lock, changes, stuck_after=5)
        await rec.step()  # a real pass: on a loaded machine it can take more than 0.05 s
        rec.stuck_after, lock.hung = 0.05, True
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(rec.step(), timeout=5)
        assert (rec.is_leader, lock.releases, changes.changes) == (False, 1, [True, False])

    async def test_a_hung_pass_gives_up_leadership(
        self, rig: Rig, lock: FakeLock, changes: Leadership
    ) -> None:
        """A pass stuck (here in a delivery that never returns) past `stuck_after` is
        cancelled and the lock released, so another instance can lead."""
        never = asyncio.Event()

        async def hang(job: JobRecord, **_: object) -> str | None:
            await never.wait()
            return None

        rig.messenger.deliver = hang  # type: ignore[method-assign]
        quote = rig.gen.quote("google/nano-banana", {"prompt": "a cat"})
        job = await rig.gen.start(USER, quote, chat_id=CHAT)
        rig.clock.advance(minutes=3)  # its callback is late: the pass polls it
        rec = reconciler(rig, lock, changes, stuck_after=0.2)
        with pytest.raises(LeaderStuck):
            await asyncio.wait_for(rec.step(), timeout=5)
        assert (rec.is_leader, lock.held, changes.changes) == (False, False, [True, False])
        assert (await rig.store.jobs.get(job.id)).state is JobState.SUCCEEDED  # not lost
