from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trt.domain import EventSource, JobState, LedgerKind, TgUserId
from trt.errors import InvalidTransition, JobNotFound
from trt.records import JobChanges, JobFilter, JobRecord, NewJob
from trt.store.sql import SqlStore

ALICE, BOB = TgUserId(1), TgUserId(2)


def new_job(user: TgUserId = ALICE, model: str = "google/nano-banana") -> NewJob:
    return NewJob(user_id=user, model_id=model, api_family="market", params={"p": "x"},
                  price_stars=7)  # fmt: skip


@pytest.fixture
async def people(store: SqlStore) -> SqlStore:
    for user in (ALICE, BOB):
        await store.users.ensure(user)
        await store.ledger.credit(user, 1000, kind=LedgerKind.TOPUP, key=f"t:{user}", reason="")
    return store


async def opened(
    store: SqlStore, user: TgUserId = ALICE, model: str = "google/nano-banana"
) -> JobRecord:
    """A job as the pipeline opens one: quoted, then held in the same transaction."""
    job, _ = await store.pipeline.open_job(new_job(user, model), max_active=100)
    return job


class TestJobLifecycle:
    async def test_the_timeline_starts_with_the_quote(self, people: SqlStore) -> None:
        """A new job's first event is its quote, with no earlier state, then its hold."""
        job = await opened(people)
        assert job.state is JobState.HELD
        events = await people.jobs.events(job.id)
        assert [(e.from_state, e.to_state, e.source) for e in events] == [
            (None, JobState.QUOTED, EventSource.USER),
            (JobState.QUOTED, JobState.HELD, EventSource.USER),
        ]

    async def test_transition_follows_the_pipeline(self, people: SqlStore) -> None:
        """Allowed transitions apply their changes and append events in order."""
        job = await opened(people)
        await people.jobs.transition(job.id, JobState.SUBMITTING, source=EventSource.USER)
        done = await people.jobs.transition(
            job.id, JobState.SUBMITTED, source=EventSource.USER,
            changes=JobChanges(kie_task_id="task-1"),
        )  # fmt: skip
        assert (done.state, done.kie_task_id) == (JobState.SUBMITTED, "task-1")
        states = [e.to_state for e in await people.jobs.events(job.id)]
        assert states == [JobState.QUOTED, JobState.HELD, JobState.SUBMITTING, JobState.SUBMITTED]

    async def test_disallowed_transition_changes_nothing(self, people: SqlStore) -> None:
        """A transition the pipeline forbids raises and leaves state and events alone."""
        job = await opened(people)
        with pytest.raises(InvalidTransition, match="held"):
            await people.jobs.transition(job.id, JobState.SUCCEEDED, source=EventSource.POLL)
        assert (await people.jobs.get(job.id)).state is JobState.HELD
        assert len(await people.jobs.events(job.id)) == 2

    async def test_second_settlement_of_a_job_is_refused(self, people: SqlStore) -> None:
        """Once succeeded, a racing failure cannot settle the job again."""
        job = await opened(people)
        for state in (JobState.SUBMITTING, JobState.SUBMITTED):
            await people.jobs.transition(job.id, state, source=EventSource.USER)
        await people.jobs.transition(
            job.id, JobState.SUCCEEDED, source=EventSource.CALLBACK,
            changes=JobChanges(result_urls=["https://r/1.png"]),
        )  # fmt: skip
        with pytest.raises(InvalidTransition):
            await people.jobs.transition(job.id, JobState.FAILED, source=EventSource.POLL)
        assert (await people.jobs.get(job.id)).result_urls == ("https://r/1.png",)

    async def test_get_by_kie_task_id(self, people: SqlStore) -> None:
        """A job can be found by its KIE task id as well as its own id."""
        job = await opened(people)
        await people.jobs.transition(job.id, JobState.SUBMITTING, source=EventSource.USER)
        await people.jobs.transition(
            job.id, JobState.SUBMITTED, source=EventSource.USER,
            changes=JobChanges(kie_task_id="abc123"),
        )  # fmt: skip
        assert (await people.jobs.get("abc123")).id == job.id

    async def test_unknown_job_is_not_found(self, people: SqlStore) -> None:
        """Looking up a job that does not exist names what was looked up."""
        with pytest.raises(JobNotFound, match="nope"):
            await people.jobs.get("nope")


class TestJobQueries:
    async def test_filters_and_newest_first(self, people: SqlStore) -> None:
        """Listing filters by user, state and model and returns the newest jobs first."""
        a1 = await opened(people, ALICE)
        b1 = await opened(people, BOB, "veo3_fast")
        a2 = await opened(people, ALICE)
        await people.jobs.transition(a2.id, JobState.SUBMITTING, source=EventSource.USER)
        ids = lambda jobs: [j.id for j in jobs]  # noqa: E731
        assert ids(await people.jobs.find(JobFilter())) == [a2.id, b1.id, a1.id]
        assert ids(await people.jobs.find(JobFilter(user_id=ALICE))) == [a2.id, a1.id]
        assert ids(await people.jobs.find(JobFilter(states=(JobState.SUBMITTING,)))) == [a2.id]
        assert ids(await people.jobs.find(JobFilter(model_id="veo3_fast"))) == [b1.id]

    async def test_keyset_pagination_walks_every_job_once(self, people: SqlStore) -> None:
        """Pages cut by the last id seen cover all jobs without repeats."""
        created = [(await opened(people)).id for _ in range(7)]
        seen: list[str] = []
        cursor = None
        while page := await people.jobs.find(JobFilter(limit=3, before_id=cursor)):
            seen += [j.id for j in page]
            cursor = page[-1].id
        assert seen == list(reversed(created))

    async def test_since_excludes_older_jobs(self, people: SqlStore) -> None:
        """A since bound in the future returns nothing; one in the past returns everything."""
        await opened(people)
        now = datetime.now(UTC)
        assert await people.jobs.find(JobFilter(since=now + timedelta(minutes=1))) == []
        assert len(await people.jobs.find(JobFilter(since=now - timedelta(minutes=1)))) == 1

    async def test_count_by_state_lists_every_state(self, people: SqlStore) -> None:
        """Counts include zero for states no job is in."""
        job = await opened(people)
        await opened(people)
        await people.jobs.transition(job.id, JobState.SUBMITTING, source=EventSource.USER)
        counts = await people.jobs.count_by_state()
        assert counts[JobState.SUBMITTING] == 1
        assert counts[JobState.HELD] == 1
        assert counts[JobState.DELIVERED] == 0
        assert set(counts) == set(JobState)

    async def test_datetimes_come_back_aware(self, people: SqlStore) -> None:
        """Stored datetimes are returned timezone-aware in UTC on every backend."""
        job = await opened(people)
        assert job.created_at.tzinfo is not None
        assert abs(job.created_at - datetime.now(UTC)) < timedelta(minutes=1)
