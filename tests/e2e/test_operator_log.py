"""What an operator reads in `trt serve`'s log: the start-up summary, and one line for
every event that fails a job, moves money, rejects a request or changes leadership, each
with its ids and reason and no secret (the suite's secret scan checks every line too)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chat import fill_form, press
from tests.e2e.conftest import (
    ADMIN,
    SECRETS,
    USER,
    Emulators,
    Stack,
    eventually,
    free_port,
    job_state,
    make_settings,
    migrate,
    serving,
)
from tests.e2e.test_endpoints import CALLBACK, post
from trt.domain import JobState
from trt.logs import JsonFormatter
from trt.sandbox.kie.emulation import Fault, TaskPlan

MODEL = "google/nano-banana"


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[Any]:
    """The records of event `name`; Any: their fields are attributes mypy cannot know."""
    return [r for r in caplog.get_records("call") if getattr(r, "event", None) == name]


async def logged(caplog: pytest.LogCaptureFixture, name: str, count: int = 1):
    """The `count` lines of event `name` once they are all logged (another task logs them)."""

    async def enough() -> bool:
        return len(events(caplog, name)) >= count

    await eventually(enough)
    return events(caplog, name)


def no_secret(records: list[logging.LogRecord]) -> None:
    for record in records:
        whole = record.getMessage() + json.dumps(record.__dict__, default=str)
        for secret in SECRETS.values():
            assert secret not in whole, record.getMessage()


async def start(stack: Stack, prompt: str = "a cat"):
    gen = stack.services.generation
    return await gen.start(USER, gen.quote(MODEL, {"prompt": prompt}), chat_id=USER)


class TestStartUp:
    async def test_summary_and_leadership(
        self, tmp_path: Path, emulators: Emulators, caplog: pytest.LogCaptureFixture
    ) -> None:
        """One summary block (webhook and callback URLs masked, the role decided), the loud
        warning about the KIE emulator in webhook mode, and leader gained / lost."""
        tg, kie = emulators
        settings = make_settings(tmp_path, tg, kie, free_port())
        await migrate(settings.database_url.get_secret_value())
        async with serving(settings):
            (summary,) = events(caplog, "startup")
        text = summary.getMessage()
        assert text.startswith("trt 0.1.0 serving\n")
        assert f"  webhook      {settings.webhook_base_url}/webhook/***" in text
        assert f"  KIE callback {settings.webhook_base_url}/callbacks/kie/***" in text
        assert "  role         leader" in text
        assert (summary.bot_mode, summary.storage, summary.kie_mode, summary.admins) == (
            "webhook", "sqlite", "emulator", 1,
        )  # fmt: skip
        as_json = json.loads(JsonFormatter().format(summary))  # what LOG_FORMAT=json prints
        assert as_json["event"] == "startup"
        assert as_json["webhook_url"] == f"{settings.webhook_base_url}/webhook/***"
        assert (as_json["role"], as_json["port"]) == ("leader", settings.port)
        (warning,) = events(caplog, "startup_warning")
        assert warning.levelno == logging.WARNING
        assert "KIE emulator in webhook mode" in warning.getMessage()
        assert [len(events(caplog, e)) for e in ("leader_gained", "leader_lost")] == [1, 1]
        no_secret(caplog.get_records("call"))


class TestJobEvents:
    async def test_kie_failure_names_its_code_and_message(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        stack.kie.plan(TaskPlan(outcome="fail", fail_code="422", fail_message="NSFW content"))
        job = await start(stack)
        await job_state(stack, job.id, JobState.RELEASED)
        (line,) = await logged(caplog, "job_failed")
        assert line.getMessage().startswith(
            f"job_failed job_id={job.id} user_id={USER} model={MODEL} "
            'reason="content_refused: NSFW content"'
        )
        assert (line.fail_code, line.fail_msg) == ("422", "NSFW content")
        no_secret(caplog.get_records("call"))

    async def test_402_is_kie_out_of_credits(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        stack.tg.user(ADMIN)
        stack.kie.inject("create", Fault(code=402))
        job = await start(stack)
        (line,) = events(caplog, "kie_out_of_credits")
        assert line.levelno == logging.ERROR
        assert (line.job_id, line.user_id, line.model) == (job.id, USER, MODEL)
        assert len(events(caplog, "job_failed")) == 1

    async def test_blocked_user_is_a_final_delivery_failure(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        stack.tg.block(USER)
        job = await start(stack)
        await job_state(stack, job.id, JobState.DELIVERED)
        (line,) = await logged(caplog, "delivery_failed")
        assert (line.job_id, line.user_id, line.final) == (job.id, USER, True)
        assert "blocked" in line.reason

    async def test_unfetchable_result_falls_back_to_a_link(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Telegram cannot fetch the URL and trt cannot download it: two fallback lines."""
        job = await start(stack)
        await job_state(stack, job.id, JobState.DELIVERED)
        gone = dataclasses.replace(job, result_urls=(f"{stack.kie.base_url}/no/such.png",))
        await stack.services.generation.messenger.deliver(gone)
        lines = events(caplog, "delivery_fallback")
        assert [(r.job_id, r.user_id, r.model) for r in lines] == [(job.id, USER, MODEL)] * 2
        assert "uploading" in lines[0].reason and "link" in lines[1].reason


@pytest.mark.parametrize("extra_settings", [{"failure_burst": 2}], indirect=True)
class TestFailureBurst:
    async def test_the_second_failure_in_the_window_is_a_burst(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        stack.tg.user(ADMIN)
        stack.kie.plan(TaskPlan(outcome="fail"), times=2)
        jobs = [await start(stack, f"cat {n}") for n in range(2)]
        for job in jobs:
            await job_state(stack, job.id, JobState.RELEASED)
        (line,) = await logged(caplog, "failure_burst")
        assert (line.failed, line.minutes, line.model) == (2, "10", MODEL)


@pytest.mark.parametrize("extra_settings", [{"low_kie_credits_alert": 10**9}], indirect=True)
class TestLowCredits:
    async def test_a_generation_with_credits_under_the_threshold(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        stack.tg.user(ADMIN)
        await fill_form(stack.tg, USER, "a red fox")
        await press(stack.tg, USER, "🚀 Generate")
        (line,) = await logged(caplog, "kie_credits_low")
        assert line.threshold == 10**9
        assert line.credits < 10**9


class TestRejections:
    async def test_rejected_webhooks_and_callbacks_are_logged_throttled(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Each kind of rejection is logged once however often it comes (within a minute)."""
        good_path = f"/webhook/{SECRETS['webhook_secret_path']}"
        for _ in range(3):
            assert (await post(stack, "/webhook/guess", b"{}"))[0] == 404
            assert (await post(stack, good_path, b"{}", {"X-Telegram-Bot-Api-Secret-Token":
                                                       "guess"}))[0] == 401  # fmt: skip
            assert (await post(stack, "/callbacks/kie/guess", b"{}"))[0] == 401
        webhook = events(caplog, "webhook_rejected")
        assert sorted(r.reason for r in webhook) == [
            "wrong secret path (404)", "wrong secret token (401)",
        ]  # fmt: skip
        (callback,) = events(caplog, "callback_rejected")
        assert callback.reason == "wrong callback token (401)"
        assert callback.remote == "127.0.0.1"
        refused = [r for r in caplog.get_records("call") if r.getMessage().startswith("refused")]
        assert refused == []  # the event is their one line: the edge adds none
        assert (await post(stack, CALLBACK, b"{oops"))[0] == 400  # the right token passes
        no_secret(caplog.get_records("call"))

    async def test_the_earlier_bots_header_callback_is_not_a_route(self, stack: Stack) -> None:
        """docs/deploy.md: `/callbacks/kie` with an X-KIE-Callback-Token header is 404."""
        token = {"X-KIE-Callback-Token": SECRETS["kie_callback_token"]}
        assert (await post(stack, "/callbacks/kie", b"{}", token))[0] == 404


class TestSignedCallbackRejections:
    @pytest.fixture
    def hmac_key(self) -> str:
        return "hmac-SECRET-5"

    async def test_a_bad_signature(self, stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
        body = json.dumps({"code": 200, "data": {"taskId": "t1", "state": "success"}}).encode()
        assert (await post(stack, CALLBACK, body))[0] == 401
        (line,) = events(caplog, "callback_rejected")
        assert line.reason.startswith("HMAC signature: ")
        assert line.reason.endswith("missing signature headers (401)")
        assert "hmac-SECRET-5" not in line.getMessage()
