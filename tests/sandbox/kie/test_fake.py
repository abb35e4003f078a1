"""FakeKie: the in-memory port the pipeline's tests use."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trt.core.ports import KieApi
from trt.domain import KieTaskId
from trt.kie.base import CreateTask, Family
from trt.kie.errors import KieInsufficientCredits, KieNotFound, KieRateLimited
from trt.kie.states import TaskState
from trt.sandbox.kie.fake import FakeKie

REQUEST = CreateTask(Family.MARKET, "google/nano-banana", {"prompt": "x"}, "https://cb")


class TestFakeKie:
    async def test_records_submissions(self):
        """Every created task's request is recorded in order."""
        kie: KieApi = FakeKie()
        await kie.create_task(REQUEST)
        assert isinstance(kie, FakeKie)
        assert kie.submitted == [REQUEST]

    async def test_scripted_states_then_repeat_last(self):
        """A task reports its scripted states one per query and then keeps the last."""
        kie = FakeKie()
        kie.script(TaskState.QUEUING, TaskState.GENERATING, TaskState.SUCCESS)
        task_id = await kie.create_task(REQUEST)
        states = [(await kie.get_task(Family.MARKET, task_id)).state for _ in range(4)]
        assert states == [
            TaskState.QUEUING,
            TaskState.GENERATING,
            TaskState.SUCCESS,
            TaskState.SUCCESS,
        ]

    async def test_success_carries_urls_and_cost(self):
        """A successful record has result URLs and the credits consumed."""
        kie = FakeKie(cost=Decimal(7))
        task_id = await kie.create_task(REQUEST)
        record = await kie.get_task(Family.MARKET, task_id)
        assert record.result_urls == kie.result_urls(task_id)
        assert record.credits_consumed == Decimal(7)

    async def test_failure_record(self):
        """A scripted failure has a fail code and no URLs."""
        kie = FakeKie()
        kie.script(TaskState.FAIL)
        record = await kie.get_task(Family.MARKET, await kie.create_task(REQUEST))
        assert (record.state, record.fail_code, record.result_urls) == (TaskState.FAIL, "500", ())

    async def test_default_script_applies_to_every_task(self):
        """A default script is used by every task without its own."""
        kie = FakeKie()
        kie.script(TaskState.GENERATING, default=True)
        first, second = await kie.create_task(REQUEST), await kie.create_task(REQUEST)
        for task_id in (first, second):
            assert (await kie.get_task(Family.MARKET, task_id)).state is TaskState.GENERATING

    async def test_set_states_replaces_the_script(self):
        """set_states changes what an existing task reports next."""
        kie = FakeKie()
        task_id = await kie.create_task(REQUEST)
        kie.set_states(task_id, TaskState.FAIL)
        assert (await kie.get_task(Family.MARKET, task_id)).state is TaskState.FAIL

    async def test_scripted_error_is_raised_once(self):
        """fail_next raises the given error the given number of times, then works again."""
        kie = FakeKie()
        kie.fail_next("create_task", KieInsufficientCredits(200, 402))
        with pytest.raises(KieInsufficientCredits):
            await kie.create_task(REQUEST)
        assert kie.submitted == []
        assert await kie.create_task(REQUEST)

    async def test_rate_limited_twice(self):
        """fail_next with times=2 raises twice."""
        kie = FakeKie()
        kie.fail_next("credits", KieRateLimited(429, 429, retry_after=1.0), times=2)
        for _ in range(2):
            with pytest.raises(KieRateLimited):
                await kie.credits()
        assert await kie.credits() == Decimal(1000)

    async def test_unknown_or_other_family_task_is_not_found(self):
        """Querying an unknown id, or a task under another family, raises KieNotFound."""
        kie = FakeKie()
        task_id = await kie.create_task(REQUEST)
        with pytest.raises(KieNotFound):
            await kie.get_task(Family.VEO, task_id)
        with pytest.raises(KieNotFound):
            await kie.get_task(Family.MARKET, KieTaskId("nope"))

    async def test_uploads_are_recorded(self):
        """Uploads are kept with their content and base64 flag."""
        kie = FakeKie()
        url = await kie.upload_file("a.png", b"png", "image/png")
        await kie.upload_base64("b.png", b"png2", "image/png")
        assert [(u.name, u.content, u.base64) for u in kie.uploads] == [
            ("a.png", b"png", False),
            ("b.png", b"png2", True),
        ]
        assert kie.uploads[0].url == url

    async def test_other_reads_and_close(self):
        """download_url, veo_1080p and aclose behave like the port says."""
        kie = FakeKie()
        assert (await kie.download_url("https://x/1.png")).startswith("https://x/1.png")
        assert (await kie.veo_1080p(KieTaskId("v"))).endswith("1080p.mp4")
        await kie.aclose()
        assert kie.closed
