"""Real KIE credits per job and the cost guard's episodes, on both backends."""

from __future__ import annotations

import asyncio

from tests.store.test_pipeline import NOW, funded, submitted  # noqa: F401 - fixture
from trt.domain import CreditSource, EventSource, JobId
from trt.store.sql import SqlStore


async def succeeded(store: SqlStore, real: float | None, price: int = 10) -> JobId:
    job_id = await submitted(store, price)
    source = CreditSource.NONE if real is None else CreditSource.POLL
    await store.pipeline.succeed(
        job_id, result_urls=["u"], real_credits=real, credits_source=source,
        source=EventSource.POLL, next_check_at=NOW,
    )  # fmt: skip
    return job_id


class TestRealCredits:
    async def test_a_late_figure_fills_only_an_unmeasured_success(
        self,
        funded: SqlStore,  # noqa: F811
    ) -> None:
        """A callback's figure lands on a success without one, once; never on a job
        that has a figure, is still running or failed."""
        unmeasured, measured = await succeeded(funded, None), await succeeded(funded, 5.0)
        running = await submitted(funded)
        failed = await submitted(funded)
        await funded.pipeline.fail(failed, reason="x", source=EventSource.POLL)
        results = [
            await funded.costs.record_late(job_id, 9.0)
            for job_id in (unmeasured, unmeasured, measured, running, failed)
        ]
        assert results == [True, False, False, False, False]
        got = await funded.jobs.get(unmeasured)
        assert (got.real_credits, got.credits_source) == (9.0, CreditSource.CALLBACK)
        assert (await funded.jobs.get(measured)).real_credits == 5.0

    async def test_the_window_is_the_newest_measured_successes(
        self,
        funded: SqlStore,  # noqa: F811
    ) -> None:
        """Unmeasured jobs and other models are left out; the newest come first."""
        first = await succeeded(funded, 1.0)
        await succeeded(funded, None)
        second, third = await succeeded(funded, 2.0), await succeeded(funded, 3.0)
        window = await funded.costs.window("m", jobs_back=2)
        assert [(j.job_id, j.real_credits, j.price_stars) for j in window] == [
            (third, 3.0, 10), (second, 2.0, 10)
        ]  # fmt: skip
        assert first not in [j.job_id for j in window]
        assert await funded.costs.window("other", jobs_back=2) == []


class TestEpisodes:
    async def test_one_trip_per_episode_even_when_racing(self, store: SqlStore) -> None:
        """Of ten racing trips one opens the episode; a recovery closes it once; then a
        trip opens a new one."""
        trips = await asyncio.gather(
            *(store.costs.trip("m", detail=f"loss {i}", at=NOW) for i in range(10))
        )
        assert sum(trips) == 1
        assert list(await store.costs.tripped()) == ["m"]
        assert [await store.costs.recover("m", at=NOW) for _ in range(2)] == [True, False]
        assert await store.costs.tripped() == {}
        assert await store.costs.trip("m", detail="again", at=NOW)
        assert await store.costs.tripped() == {"m": "again"}

    async def test_recovering_an_untripped_model_changes_nothing(self, store: SqlStore) -> None:
        """No row, no episode: nothing to close."""
        assert not await store.costs.recover("never", at=NOW)
