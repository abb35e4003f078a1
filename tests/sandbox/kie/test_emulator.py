"""The KIE emulator over loopback, driven through the real KieClient and a real receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.sandbox.kie.receiver import CallbackReceiver
from trt.domain import KieTaskId
from trt.kie.base import CreateTask, Family
from trt.kie.callbacks import parse_callback, verify_and_parse
from trt.kie.client import KieClient, RetryPolicy
from trt.kie.errors import (
    KieBadResponse,
    KieGenerationFailed,
    KieInsufficientCredits,
    KieMaintenance,
    KieNotFound,
    KieNotReady,
    KieRateLimited,
    KieServerError,
    KieTimeout,
    KieUnauthorized,
    KieValidationError,
)
from trt.kie.states import TaskState
from trt.sandbox.kie import media
from trt.sandbox.kie.emulator import (
    CallbackPlan,
    Emulator,
    Fault,
    ManualClock,
    Schedule,
    TaskPlan,
    run_emulator,
)

MARKET = {"model": "google/nano-banana", "input": {"prompt": "x", "output_format": "png"}}


@asynccontextmanager
async def emulated(**options: Any) -> AsyncIterator[tuple[Emulator, KieClient]]:
    options.setdefault("clock", ManualClock())
    timeout = options.pop("timeout", 5.0)
    key = options.pop("client_key", "any-key")
    async with run_emulator(**options) as emu:
        client = KieClient.connect(
            api_key=key,
            base_url=emu.base_url,
            upload_base_url=emu.base_url,
            timeout=timeout,
            retry=RetryPolicy(attempts=1),
        )
        try:
            yield emu, client
        finally:
            await client.aclose()


def market(callback: str | None = None, **input_: Any) -> CreateTask:
    return CreateTask(Family.MARKET, "google/nano-banana", {"prompt": "x", **input_}, callback)


class TestLifecycle:
    async def test_market_task_moves_through_every_state(self):
        """A Market task goes waiting → queuing → generating → success on the schedule."""
        async with emulated(schedule=Schedule(1, 2, 3)) as (emu, client):
            task_id = await client.create_task(market())
            states = []
            for _ in range(4):
                states.append((await client.get_task(Family.MARKET, task_id)).state)
                await emu.advance(1)
        assert states == [
            TaskState.WAITING,
            TaskState.QUEUING,
            TaskState.GENERATING,
            TaskState.SUCCESS,
        ]

    @pytest.mark.parametrize(
        ("request_", "kind"),
        [
            (market(), "png"),
            (market(output_format="jpeg"), "jpg"),
            (CreateTask(Family.MARKET, "kling/v2-1-text-to-video", {"prompt": "x"}), "mp4"),
            (CreateTask(Family.VEO, "veo3_fast", {"prompt": "cat"}), "mp4"),
            (
                CreateTask(
                    Family.SUNO,
                    "V4_5",
                    {"prompt": "song", "customMode": False, "instrumental": False},
                    "http://127.0.0.1:9/cb",
                ),
                "mp3",
            ),
        ],
        ids=["png", "jpeg", "market-video", "veo", "suno"],
    )
    async def test_success_serves_real_result_files(self, request_, kind):
        """A finished task's result URLs serve the shipped sample file of the right type."""
        async with emulated() as (emu, client):
            task_id = await client.create_task(request_)
            await emu.advance(10)
            record = await client.get_task(request_.family, task_id)
            assert record.state is TaskState.SUCCESS
            assert record.created_at is not None or request_.family is Family.SUNO
            async with httpx.AsyncClient() as http:
                answer = await http.get(record.result_urls[0])
        assert answer.status_code == 200
        assert answer.headers["content-type"] == media.CONTENT_TYPES[kind]
        assert answer.content == media.sample(kind)

    async def test_fail_rate_one_fails_every_task(self):
        """With fail_rate=1 a task ends in fail with a code and message."""
        async with emulated(fail_rate=1.0) as (emu, client):
            task_id = await client.create_task(market())
            await emu.advance(10)
            record = await client.get_task(Family.MARKET, task_id)
        assert (record.state, record.fail_code, record.result_urls) == (TaskState.FAIL, "500", ())

    async def test_finish_and_set_state_override_the_schedule(self):
        """set_state pins a state and finish ends the task at once."""
        async with emulated() as (emu, client):
            task_id = await client.create_task(market())
            emu.set_state(task_id, TaskState.GENERATING)
            await emu.advance(100)
            pinned = (await client.get_task(Family.MARKET, task_id)).state
            emu.finish(task_id, success=False)
            final = (await client.get_task(Family.MARKET, task_id)).state
        assert (pinned, final) == (TaskState.GENERATING, TaskState.FAIL)

    async def test_credits_are_charged_per_task(self):
        """Each creation costs task_cost credits; an empty account answers 402."""
        async with emulated(credits=Decimal(15), task_cost=Decimal(10)) as (_, client):
            await client.create_task(market())
            assert await client.credits() == Decimal(5)
            with pytest.raises(KieInsufficientCredits):
                await client.create_task(market())

    async def test_veo_1080p_becomes_ready(self):
        """The Veo 1080p call answers "processing" until its delay has passed."""
        async with emulated(veo_1080p_after=60) as (emu, client):
            task_id = await client.create_task(
                CreateTask(Family.VEO, "veo3_fast", {"prompt": "c"})
            )
            await emu.advance(10)
            with pytest.raises(KieNotReady):
                await client.veo_1080p(task_id)
            await emu.advance(60)
            assert (await client.veo_1080p(task_id)).endswith("/1080p.mp4")


class TestEndpoints:
    async def test_unknown_task_is_record_is_null(self):
        """An unknown task answers the observed 422 "recordInfo is null"."""
        async with emulated() as (_, client):
            with pytest.raises(KieNotFound) as info:
                await client.get_task(Family.MARKET, KieTaskId("nope"))
        assert (info.value.status, info.value.code) == (200, 422)

    async def test_unknown_task_documented_404(self):
        """With unknown_task="404" an unknown task answers HTTP 404."""
        async with emulated(unknown_task="404") as (_, client):
            with pytest.raises(KieNotFound) as info:
                await client.get_task(Family.MARKET, KieTaskId("nope"))
        assert info.value.status == 404

    async def test_task_of_another_family_is_unknown(self):
        """A Veo task is not found through the Market record endpoint."""
        async with emulated() as (_, client):
            task_id = await client.create_task(CreateTask(Family.VEO, "veo3", {"prompt": "c"}))
            with pytest.raises(KieNotFound):
                await client.get_task(Family.MARKET, task_id)

    async def test_missing_task_id_is_http_400(self):
        """A record query without taskId is an HTTP 400."""
        async with emulated() as (emu, _), httpx.AsyncClient() as http:
            answer = await http.get(
                f"{emu.base_url}/api/v1/jobs/recordInfo", headers={"Authorization": "Bearer k"}
            )
        assert answer.status_code == 400
        assert answer.json()["msg"] == "taskId parameter is required"

    @pytest.mark.parametrize(
        "request_",
        [
            CreateTask(Family.VEO, "veo3_fast", {}),
            CreateTask(Family.VEO, "veo9", {"prompt": "x"}),
            CreateTask(Family.SUNO, "V4_5", {"prompt": "x"}, "http://cb"),
            CreateTask(
                Family.SUNO, "V4_5", {"customMode": True, "instrumental": True}, "http://cb"
            ),
            CreateTask(
                Family.SUNO, "V4_5", {"customMode": False, "instrumental": False, "prompt": "x"}
            ),
        ],
        ids=[
            "veo-no-prompt",
            "veo-bad-model",
            "suno-no-flags",
            "suno-custom-no-style",
            "suno-no-callback",
        ],
    )
    async def test_invalid_requests_are_422(self, request_):
        """Creations missing required fields are refused with 422."""
        async with emulated() as (_, client):
            with pytest.raises(KieValidationError):
                await client.create_task(request_)

    async def test_wrong_key_is_401(self):
        """With api_key set, any other Bearer key answers 401."""
        async with emulated(api_key="right", client_key="wrong") as (_, client):
            with pytest.raises(KieUnauthorized):
                await client.credits()

    async def test_right_key_is_accepted(self):
        """With api_key set, that key is accepted."""
        async with emulated(api_key="right", client_key="right") as (_, client):
            assert await client.credits() == Decimal(10_000)

    async def test_download_url(self):
        """download-url signs the emulator's own files and refuses external URLs."""
        async with emulated() as (emu, client):
            task_id = await client.create_task(market())
            await emu.advance(10)
            url = (await client.get_task(Family.MARKET, task_id)).result_urls[0]
            assert (await client.download_url(url)).startswith(url + "?expires=")
            with pytest.raises(KieValidationError):
                await client.download_url("https://elsewhere.example/x.png")

    @pytest.mark.parametrize("method", ["upload_file", "upload_base64"])
    async def test_uploads_are_served_back(self, method):
        """Uploaded bytes come back from the returned URL with their MIME type."""
        async with emulated() as (_, client):
            url = await getattr(client, method)("in.png", b"\x89PNG-bytes", "image/png")
            async with httpx.AsyncClient() as http:
                answer = await http.get(url)
        assert (answer.content, answer.headers["content-type"]) == (b"\x89PNG-bytes", "image/png")

    async def test_upload_without_auth_is_refused(self):
        """The upload host answers success=false 401 without a key."""
        async with emulated() as (emu, _), httpx.AsyncClient() as http:
            answer = await http.post(f"{emu.base_url}/api/file-base64-upload", json={})
        assert answer.json() == {
            "success": False,
            "code": 401,
            "msg": "Authentication failed: Invalid API Key",
        }


class TestRateLimit:
    async def test_twenty_per_ten_seconds(self):
        """The 21st creation within 10 s is an HTTP 429; the window then reopens."""
        async with emulated() as (emu, client):
            for _ in range(20):
                await client.create_task(market())
            with pytest.raises(KieRateLimited) as info:
                await client.create_task(market())
            assert info.value.status == 429
            await emu.advance(10)
            assert await client.create_task(market())

    async def test_switched_off(self):
        """With rate_limit=None, creations are never limited."""
        async with emulated(rate_limit=None) as (_, client):
            for _ in range(30):
                await client.create_task(market())


class TestFaults:
    @pytest.mark.parametrize(
        ("code", "cls"),
        [
            (402, KieInsufficientCredits),
            (422, KieValidationError),
            (455, KieMaintenance),
            (500, KieServerError),
            (501, KieGenerationFailed),
        ],
    )
    @pytest.mark.parametrize("http_status", [200, "same"])
    async def test_injected_codes(self, code, cls, http_status):
        """An injected code arrives in the body or as the HTTP status, once."""
        status = code if http_status == "same" else 200
        async with emulated() as (emu, client):
            emu.inject("create", Fault(code=code, http_status=status))
            with pytest.raises(cls) as info:
                await client.create_task(market())
            assert (info.value.status, info.value.code) == (status, code)
            assert await client.create_task(market())

    async def test_malformed_json(self):
        """An injected malformed body is a KieBadResponse."""
        async with emulated() as (emu, client):
            emu.inject("record", Fault(malformed=True))
            with pytest.raises(KieBadResponse):
                await client.get_task(Family.MARKET, KieTaskId("x"))

    async def test_slow_answer_times_out(self):
        """A slow answer beyond the client's timeout is a KieTimeout."""
        async with emulated(timeout=0.05) as (emu, client):
            emu.inject("credits", Fault(code=None, delay=30))
            with pytest.raises(KieTimeout):
                await client.credits()

    async def test_slow_but_correct_answer(self):
        """A short delay with code=None still answers correctly."""
        async with emulated() as (emu, client):
            emu.inject("any", Fault(code=None, delay=0.01))
            assert await client.credits() == Decimal(10_000)

    async def test_retrying_client_gets_through_a_maintenance_window(self):
        """The client's creation retry rule rides out injected 455s."""
        async with run_emulator(clock=ManualClock()) as emu:
            slept: list[float] = []

            async def sleep(delay: float) -> None:
                slept.append(delay)

            http = httpx.AsyncClient(base_url=emu.base_url)
            client = KieClient(http=http, api_key="k", sleep=sleep)
            emu.inject("create", Fault(code=455), times=2)
            assert await client.create_task(market())
            await client.aclose()
        assert len(slept) == 2
        assert emu.requests.count(("POST", "/api/v1/jobs/createTask")) == 3


class TestCallbacks:
    async def test_signed_callback_on_completion(self, receiver: CallbackReceiver):
        """A finished task posts one signed callback that verifies with the key."""
        async with emulated(hmac_key="secret") as (emu, client):
            task_id = await client.create_task(market(receiver.url))
            await emu.advance(2)
            assert receiver.received == []
            await emu.advance(10)
        [got] = receiver.received
        callback = verify_and_parse(got.body, got.headers, key="secret")
        assert (callback.task_id, callback.state) == (task_id, TaskState.SUCCESS)
        assert callback.record is not None and callback.record.credits_consumed == Decimal(10)

    async def test_unsigned_without_key(self, receiver: CallbackReceiver):
        """Without an HMAC key callbacks carry no signature headers."""
        async with emulated() as (emu, client):
            await client.create_task(market(receiver.url))
            await emu.advance(10)
        assert "X-Webhook-Signature" not in receiver.received[0].headers

    async def test_failure_callback(self, receiver: CallbackReceiver):
        """A failed Market task posts code 501 with its fail code."""
        async with emulated() as (emu, client):
            emu.plan(TaskPlan(outcome="fail", fail_code="422", fail_message="bad prompt"))
            await client.create_task(market(receiver.url))
            await emu.advance(10)
        callback = parse_callback(receiver.received[0].body)
        assert (callback.code, callback.state, callback.fail_code) == (501, TaskState.FAIL, "422")

    async def test_veo_failure_callback_with_a_non_numeric_code(self, receiver: CallbackReceiver):
        """A Veo task planned to fail posts its code; a non-numeric code becomes 500."""
        veo = CreateTask(Family.VEO, "veo3_fast", {"prompt": "c"}, receiver.url)
        async with emulated() as (emu, client):
            emu.plan(TaskPlan(outcome="fail", fail_code="400", fail_message="flagged"))
            emu.plan(TaskPlan(outcome="fail", fail_code="weird"))
            first = await client.create_task(veo)
            await client.create_task(veo)
            await emu.advance(10)
            record = await client.get_task(Family.VEO, first)
        codes = sorted(parse_callback(r.body).code or 0 for r in receiver.received)
        assert codes == [400, 500]
        assert (record.state, record.fail_code, record.fail_message) == (
            TaskState.FAIL,
            "400",
            "flagged",
        )

    async def test_delayed_callback(self, receiver: CallbackReceiver):
        """callback_delay holds the callback back after the task is done."""
        async with emulated(callback_delay=30) as (emu, client):
            await client.create_task(market(receiver.url))
            await emu.advance(10)
            before = len(receiver.received)
            await emu.advance(30)
        assert (before, len(receiver.received)) == (0, 1)

    async def test_duplicated_callbacks(self, receiver: CallbackReceiver):
        """A plan with copies=3 posts the same callback three times."""
        async with emulated() as (emu, client):
            emu.plan(TaskPlan(callbacks=CallbackPlan(copies=3)))
            await client.create_task(market(receiver.url))
            await emu.advance(10)
        assert len(receiver.received) == 3
        assert len({r.body for r in receiver.received}) == 1

    async def test_dropped_callback(self, receiver: CallbackReceiver):
        """A plan with drop=True never posts, though the task succeeds."""
        async with emulated() as (emu, client):
            emu.plan(TaskPlan(callbacks=CallbackPlan(drop=True)))
            task_id = await client.create_task(market(receiver.url))
            await emu.advance(100)
            assert (await client.get_task(Family.MARKET, task_id)).state is TaskState.SUCCESS
        assert receiver.received == []

    async def test_suno_stages_in_order_and_reordered(self, receiver: CallbackReceiver):
        """Suno posts text, first, complete; held callbacks can be released reversed."""
        suno = CreateTask(
            Family.SUNO,
            "V4_5",
            {"prompt": "song", "customMode": False, "instrumental": False},
            receiver.url,
        )
        async with emulated() as (emu, client):
            await client.create_task(suno)
            await emu.advance(10)
            emu.hold_callbacks()
            await client.create_task(suno)
            await emu.advance(10)
            assert len(receiver.received) == 3
            await emu.release_callbacks(order="reverse")
        stages = [r.json["data"]["callbackType"] for r in receiver.received]
        assert stages == ["text", "first", "complete", "complete", "first", "text"]

    async def test_failed_delivery_is_retried(self, receiver: CallbackReceiver):
        """A callback answered with 500 is sent again after the retry delay."""
        receiver.statuses = [500, 500]
        async with emulated(callback_retry_delay=1) as (emu, client):
            await client.create_task(market(receiver.url))
            await emu.advance(10)
            await emu.advance(1)
            await emu.advance(2)
        assert [d.status for d in emu.deliveries] == [500, 500, 200]
        assert [d.attempt for d in emu.deliveries] == [1, 2, 3]

    async def test_delivery_stops_after_the_attempts(self, receiver: CallbackReceiver):
        """KIE stops after its retries; so does the emulator."""
        receiver.statuses = [503] * 10
        async with emulated(callback_retry_delay=1, callback_attempts=4) as (emu, client):
            await client.create_task(market(receiver.url))
            for _ in range(10):
                await emu.advance(10)
        assert len(receiver.received) == 4

    async def test_real_clock_delivers_in_the_background(self, receiver: CallbackReceiver):
        """On the real clock the scheduler delivers without anyone advancing time."""
        async with run_emulator(schedule=Schedule(0, 0, 0)) as emu:
            async with httpx.AsyncClient() as http:
                await http.post(
                    f"{emu.base_url}/api/v1/jobs/createTask",
                    headers={"Authorization": "Bearer k"},
                    json={**MARKET, "callBackUrl": receiver.url},
                )
            [got] = await receiver.wait_for(1)
        assert got.json["data"]["state"] == "success"

    async def test_unreachable_receiver_is_recorded(self):
        """A callback to a closed port is logged as a delivery with no status."""
        async with emulated(callback_attempts=1) as (emu, client):
            await client.create_task(market("http://127.0.0.1:9/closed"))
            await emu.advance(10)
        assert [d.status for d in emu.deliveries] == [None]

    async def test_advance_needs_a_manual_clock(self):
        """advance() refuses to run on the real clock."""
        async with run_emulator() as emu:
            with pytest.raises(TypeError):
                await emu.advance(1)


class TestRandomFaults:
    """The fault options `trt kie emulate` exposes, drawn at random per task or request."""

    async def test_every_callback_dropped_or_copied(self, receiver: CallbackReceiver):
        """callback_drop_rate=1 sends nothing; callback_copies=3 sends each callback 3 times."""
        async with emulated(callback_drop_rate=1.0) as (emu, client):
            await client.create_task(market(receiver.url))
            await emu.advance(100)
        assert receiver.received == []
        async with emulated(callback_copies=3) as (emu, client):
            await client.create_task(market(receiver.url))
            await emu.advance(10)
            assert len(await receiver.wait_for(3)) == 3

    async def test_a_share_of_callbacks_is_dropped(self, receiver: CallbackReceiver):
        """With callback_drop_rate=0.5 and a fixed seed, some of 40 tasks call back, not all."""
        async with emulated(callback_drop_rate=0.5, seed=7, rate_limit=None) as (emu, client):
            for _ in range(40):
                await client.create_task(market(receiver.url))
            await emu.advance(100)
        assert 5 < len(receiver.received) < 35

    async def test_failing_requests_answer_500(self):
        """request_fail_rate=1 makes every API call an HTTP 500 (KieServerError)."""
        async with emulated(request_fail_rate=1.0, rate_limit=None) as (_, client):
            with pytest.raises(KieServerError):
                await client.credits()

    async def test_timing_out_requests_exceed_the_client_timeout(self):
        """In timeout mode a failing request is answered too late: KieTimeout."""
        options = {"request_fail_rate": 1.0, "request_fail_mode": "timeout"}
        async with emulated(timeout=0.05, **options) as (_, client):
            with pytest.raises(KieTimeout):
                await client.credits()

    async def test_first_reads_say_record_is_null(self):
        """null_record_reads=2: a new task's first two reads are KIE's "recordInfo is null"
        (KieNotFound), the third its record."""
        async with emulated(null_record_reads=2) as (_, client):
            task_id = await client.create_task(market())
            for _ in range(2):
                with pytest.raises(KieNotFound):
                    await client.get_task(Family.MARKET, task_id)
            assert (await client.get_task(Family.MARKET, task_id)).task_id == task_id
