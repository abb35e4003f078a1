from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from tests.conftest import CliInvoke
from trt.domain import JobId
from trt.settings import DEFAULT_DATABASE_URL
from trt.store.sql import open_store


@pytest.fixture(autouse=True)
def emulated_kie(monkeypatch: pytest.MonkeyPatch) -> None:
    """Support commands open the whole pipeline; an in-process KIE emulator stands in."""
    monkeypatch.setenv("KIE_MODE", "emulator")


class TestRefund:
    def test_refund_returns_the_charge_once(self, trt: CliInvoke, seeded) -> None:
        """A charged job's Stars come back once; repeating the refund moves nothing."""
        first = trt("jobs", "refund", seeded["done"], "--reason", "blurry")
        assert first.exit_code == 0, first.output
        assert "refunded 12 ⭐" in first.output
        again = trt("jobs", "refund", seeded["done"], "--reason", "blurry")
        assert (again.exit_code, "nothing moved" in again.output) == (0, True)
        user = json.loads(trt("users", "show", "111", "--json").stdout)["user"]
        assert user["balance"] == 100

    def test_refund_of_an_uncharged_job_is_refused(self, trt: CliInvoke, seeded) -> None:
        """A job that was never charged cannot be refunded; the error says why."""
        result = trt("jobs", "refund", seeded["waiting"], "--reason", "x")
        assert result.exit_code == 4
        assert "no charge" in result.output


class TestFail:
    def test_fail_releases_a_stuck_job(self, trt: CliInvoke, seeded) -> None:
        """Failing a job that never finished ends it released, with the reason kept."""
        result = trt("jobs", "fail", seeded["waiting"], "--reason", "stuck at KIE")
        assert result.exit_code == 0, result.output
        data = json.loads(trt("jobs", "show", seeded["waiting"], "--json").stdout)
        assert data["job"]["state"] == "released"
        assert data["job"]["error"] == "support: stuck at KIE"

    def test_fail_of_a_finished_job_is_refused(self, trt: CliInvoke, seeded) -> None:
        """A succeeded job cannot be failed; nothing changes."""
        result = trt("jobs", "fail", seeded["done"], "--reason", "x")
        assert result.exit_code == 4
        assert "cannot become failed" in result.output


class TestRetryDelivery:
    def test_succeeded_job_without_chat_is_marked_delivered(self, trt: CliInvoke, seeded):
        """Retrying the delivery of a job with no chat (made from the CLI) completes it."""
        result = trt("jobs", "retry-delivery", seeded["done"])
        assert result.exit_code == 0, result.output
        assert "delivered" in result.output

    def test_unfinished_job_cannot_be_delivered(self, trt: CliInvoke, seeded) -> None:
        """Only a succeeded job has a result to deliver."""
        result = trt("jobs", "retry-delivery", seeded["waiting"])
        assert result.exit_code == 4


async def _make_due(job_id: str) -> None:
    async with open_store(DEFAULT_DATABASE_URL) as store:
        await store.pipeline.schedule(JobId(job_id), next_check_at=datetime.now(UTC))


class TestReconcile:
    def test_dry_run_lists_without_acting_then_a_pass_acts(self, trt: CliInvoke, seeded):
        """A dry run reports the due delivery and changes nothing; a real pass delivers it."""
        asyncio.run(_make_due(seeded["done"]))
        dry = json.loads(trt("jobs", "reconcile", "--dry-run", "--json").stdout)
        assert dry == {"dry_run": True, "polled": [], "orphans_failed": [],
                       "deliveries": [seeded["done"]]}  # fmt: skip
        state = json.loads(trt("jobs", "show", seeded["done"], "--json").stdout)["job"]["state"]
        assert state == "succeeded"
        done = json.loads(trt("jobs", "reconcile", "--json").stdout)
        assert done["deliveries"] == [seeded["done"]]
        state = json.loads(trt("jobs", "show", seeded["done"], "--json").stdout)["job"]["state"]
        assert state == "delivered"


async def _delivered_job() -> JobId:
    """Alice's job, delivered to her chat: support is asked to send it again."""
    from tests.cli.conftest import ALICE
    from trt.domain import EventSource, JobState
    from trt.records import JobChanges, NewJob

    async with open_store(DEFAULT_DATABASE_URL) as store:
        new = NewJob(ALICE, "google/nano-banana", "market",
                     {"prompt": "a cat", "aspect_ratio": "16:9"}, 3, chat_id=ALICE)  # fmt: skip
        job, _ = await store.pipeline.open_job(new, max_active=3)
        for state, changes in (
            (JobState.SUBMITTING, JobChanges()),
            (JobState.SUBMITTED, JobChanges(kie_task_id="task-sent")),
            (JobState.SUCCEEDED, JobChanges(result_urls=["https://files.example/cat.png"])),
            (JobState.DELIVERED, JobChanges()),
        ):
            await store.jobs.transition(job.id, state, source=EventSource.USER, changes=changes)
        return job.id


class TestRetryDeliveryOfADeliveredJob:
    def test_a_delivered_result_is_sent_again(
        self, trt: CliInvoke, seeded, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Support's most common request ("I lost my picture"): a delivered job's result
        is sent again, captioned as delivered, in the user's language."""
        from tests.cli.conftest import ALICE, served_in_thread
        from trt.sandbox.telegram.runner import run_telegram_emulator

        job = asyncio.run(_delivered_job())
        with served_in_thread(lambda: run_telegram_emulator(flood_limits=False)) as tg:
            tg.user(ALICE, language_code="ru")
            monkeypatch.setenv("TELEGRAM_BOT_TOKEN", tg.token)
            monkeypatch.setenv("TELEGRAM_API_BASE_URL", tg.base_url)
            result = trt("jobs", "retry-delivery", job)
            assert result.exit_code == 0, result.output
            assert "result sent again" in result.output
            sent = tg.chat(ALICE).last()
            assert "Nano Banana" in (sent.caption or sent.text or "")
            assert "16:9" in (sent.caption or sent.text or "")
