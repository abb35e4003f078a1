"""KieClient over the real httpx stack with a MockTransport: requests, errors, retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from trt.core.ports import KieApi
from trt.domain import Family, KieTaskId
from trt.kie.base import CreateTask
from trt.kie.client import KieClient, RetryPolicy
from trt.kie.errors import (
    KieBadResponse,
    KieFeatureDisabled,
    KieGenerationFailed,
    KieInsufficientCredits,
    KieMaintenance,
    KieNetworkError,
    KieNotFound,
    KieNotReady,
    KieRateLimited,
    KieServerError,
    KieTimeout,
    KieUnauthorized,
    KieValidationError,
    nothing_created,
)
from trt.kie.states import TaskState

KEY = "sk-test-secret-key-123"
BASE = "https://api.kie.test"
UPLOAD = "https://upload.kie.test"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a list and records requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"code": 200, "msg": "success", "data": data})


def body_error(code: int, msg: str = "no") -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": msg, "data": None})


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_client(handler: Handler, sleeps: Sleeps | None = None, attempts: int = 4) -> KieClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=BASE)
    return KieClient(
        http=http,
        api_key=KEY,
        upload_base_url=UPLOAD,
        sleep=sleeps or Sleeps(),
        retry=RetryPolicy(attempts=attempts),
    )


MARKET = CreateTask(
    family=Family.MARKET,
    model="google/nano-banana",
    input={"prompt": "a banana in space", "output_format": "png", "image_size": "1:1"},
    callback_url="https://bot.example.com/callbacks/kie/tok",
)
VEO = CreateTask(
    family=Family.VEO,
    model="veo3_fast",
    input={"prompt": "a cat", "aspectRatio": "16:9"},
    callback_url="https://bot.example.com/callbacks/kie/tok",
)
SUNO = CreateTask(
    family=Family.SUNO,
    model="V4_5",
    input={"prompt": "a song", "customMode": False, "instrumental": False},
    callback_url="https://bot.example.com/callbacks/kie/tok",
)


def sent(request: httpx.Request) -> dict[str, object]:
    return {
        "method": request.method,
        "url": str(request.url),
        "json": json.loads(request.content) if request.content else None,
    }


class TestRequests:
    @pytest.mark.parametrize("request_", [MARKET, VEO, SUNO], ids=["market", "veo", "suno"])
    async def test_create_task_request(self, request_, json_snapshot):
        """Each family's creation goes to its own endpoint with its own body shape."""
        recorder = Recorder(ok({"taskId": "task_1"}))
        client = make_client(recorder)
        assert await client.create_task(request_) == "task_1"
        assert sent(recorder.requests[0]) == json_snapshot

    async def test_only_market_uses_the_market_endpoint(self):
        """Veo and Suno creations never reach /api/v1/jobs/createTask."""
        recorder = Recorder(ok({"taskId": "t"}))
        client = make_client(recorder)
        for request in (MARKET, VEO, SUNO):
            await client.create_task(request)
        paths = [r.url.path for r in recorder.requests]
        assert paths == ["/api/v1/jobs/createTask", "/api/v1/veo/generate", "/api/v1/generate"]

    async def test_callback_url_is_omitted_when_none(self):
        """A creation without a callback URL sends no callBackUrl key."""
        recorder = Recorder(ok({"taskId": "t"}))
        await make_client(recorder).create_task(
            CreateTask(Family.MARKET, "m", {"prompt": "x"}, None)
        )
        assert json.loads(recorder.requests[0].content) == {"model": "m", "input": {"prompt": "x"}}

    async def test_bearer_auth_on_every_request(self):
        """Every request carries `Authorization: Bearer <key>`."""
        recorder = Recorder(ok(5), ok({"taskId": "t"}))
        client = make_client(recorder)
        await client.credits()
        await client.create_task(MARKET)
        assert {r.headers["Authorization"] for r in recorder.requests} == {f"Bearer {KEY}"}

    @pytest.mark.parametrize(
        ("family", "path"),
        [
            (Family.MARKET, "/api/v1/jobs/recordInfo"),
            (Family.VEO, "/api/v1/veo/record-info"),
            (Family.SUNO, "/api/v1/generate/record-info"),
        ],
    )
    async def test_get_task_queries_the_family_endpoint(self, family, path):
        """Record queries go to the family's own endpoint with ?taskId=."""
        data = {"taskId": "t9", "state": "generating", "successFlag": 0, "status": "PENDING"}
        recorder = Recorder(ok(data))
        record = await make_client(recorder).get_task(family, KieTaskId("t9"))
        assert recorder.requests[0].method == "GET"
        assert recorder.requests[0].url.path == path
        assert recorder.requests[0].url.params["taskId"] == "t9"
        assert record.family is family
        assert not record.state.is_final

    async def test_credits(self):
        """Credits are read from GET /api/v1/chat/credit as a Decimal."""
        recorder = Recorder(ok(2510330))
        assert await make_client(recorder).credits() == Decimal(2510330)
        assert recorder.requests[0].url.path == "/api/v1/chat/credit"

    async def test_credits_not_a_number(self):
        """A credits answer that is not a number is a bad response."""
        with pytest.raises(KieBadResponse):
            await make_client(Recorder(ok({"x": 1}))).credits()

    async def test_download_url(self, json_snapshot):
        """download_url posts {url} and returns the string in data."""
        recorder = Recorder(ok("https://tempfile.example/abc?sig=1"))
        url = await make_client(recorder).download_url("https://tempfile.example/abc")
        assert url == "https://tempfile.example/abc?sig=1"
        assert sent(recorder.requests[0]) == json_snapshot

    async def test_veo_1080p(self):
        """The Veo 1080p call sends taskId and index and returns data.resultUrl."""
        recorder = Recorder(ok({"resultUrl": "https://x/1080.mp4"}))
        url = await make_client(recorder).veo_1080p(KieTaskId("v1"), index=0)
        assert url == "https://x/1080.mp4"
        request = recorder.requests[0]
        assert (request.url.path, dict(request.url.params)) == (
            "/api/v1/veo/get-1080p-video",
            {"taskId": "v1", "index": "0"},
        )

    async def test_veo_1080p_not_ready(self):
        """While the 1080p file is made, the call raises KieNotReady."""
        answer = body_error(400, "1080P is processing. It should be ready in 1-2 minutes.")
        with pytest.raises(KieNotReady):
            await make_client(Recorder(answer)).veo_1080p(KieTaskId("v1"))

    async def test_upload_stream_is_multipart_on_the_upload_host(self):
        """A stream upload posts multipart (file, uploadPath, fileName) to the upload host."""
        answer = httpx.Response(
            200,
            json={
                "success": True,
                "code": 200,
                "msg": "ok",
                "data": {"downloadUrl": "https://t/f.png"},
            },
        )
        recorder = Recorder(answer)
        url = await make_client(recorder).upload_file("f.png", b"\x89PNGdata", "image/png")
        request = recorder.requests[0]
        assert url == "https://t/f.png"
        assert str(request.url) == f"{UPLOAD}/api/file-stream-upload"
        assert request.headers["Content-Type"].startswith("multipart/form-data")
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        content = request.content
        assert b'name="uploadPath"' in content and b"trt/inputs" in content
        assert b'filename="f.png"' in content and b"\x89PNGdata" in content

    async def test_upload_base64_sends_a_data_url(self, json_snapshot):
        """A base64 upload posts JSON with a data URL and falls back to data.fileUrl."""
        answer = httpx.Response(
            200,
            json={
                "success": True,
                "code": 200,
                "msg": "ok",
                "data": {"fileUrl": "https://t/g.png"},
            },
        )
        recorder = Recorder(answer)
        url = await make_client(recorder).upload_base64("g.png", b"abc", "image/png")
        assert url == "https://t/g.png"
        assert sent(recorder.requests[0]) == json_snapshot

    async def test_aclose_closes_the_http_client(self):
        """aclose() closes the underlying httpx client."""
        http = httpx.AsyncClient(transport=httpx.MockTransport(Recorder(ok(1))), base_url=BASE)
        await KieClient(http=http, api_key=KEY).aclose()
        assert http.is_closed

    def test_implements_the_port(self):
        """KieClient satisfies the KieApi protocol (checked by mypy, smoke-tested here)."""
        client: KieApi = make_client(Recorder(ok(1)))
        assert callable(client.create_task)


ERRORS = [
    (401, KieUnauthorized),
    (402, KieInsufficientCredits),
    (404, KieNotFound),
    (422, KieValidationError),
    (429, KieRateLimited),
    (455, KieMaintenance),
    (500, KieServerError),
    (501, KieGenerationFailed),
    (505, KieFeatureDisabled),
]


class TestErrors:
    @pytest.mark.parametrize(("code", "cls"), ERRORS)
    @pytest.mark.parametrize("transport", ["body", "http"])
    async def test_every_code_in_both_transports(self, code, cls, transport):
        """Each documented code raises its class whether it came in the body or as status."""
        answer = body_error(code) if transport == "body" else httpx.Response(code, text="no")
        client = make_client(Recorder(answer), attempts=1)
        with pytest.raises(cls) as info:
            await client.create_task(MARKET)
        assert info.value.code == code
        assert KEY not in str(info.value)

    async def test_timeout_becomes_kie_timeout_from_the_httpx_error(self):
        """A read timeout becomes KieTimeout(sent=True) chained to the httpx exception."""
        client = make_client(Recorder(httpx.ReadTimeout("slow")), attempts=1)
        with pytest.raises(KieTimeout) as info:
            await client.credits()
        assert info.value.sent is True
        assert isinstance(info.value.__cause__, httpx.ReadTimeout)

    async def test_connect_error_becomes_network_error_not_sent(self):
        """A refused connection becomes KieNetworkError(sent=False): nothing was created."""
        client = make_client(Recorder(httpx.ConnectError("refused")), attempts=1)
        with pytest.raises(KieNetworkError) as info:
            await client.create_task(MARKET)
        assert info.value.sent is False
        assert nothing_created(info.value)
        assert isinstance(info.value.__cause__, httpx.ConnectError)

    async def test_broken_connection_is_sent(self):
        """A connection that broke after sending may have created a task."""
        client = make_client(Recorder(httpx.RemoteProtocolError("eof")), attempts=1)
        with pytest.raises(KieNetworkError) as info:
            await client.create_task(MARKET)
        assert not nothing_created(info.value)

    async def test_malformed_json_is_a_bad_response(self):
        """A cut-off JSON body raises KieBadResponse."""
        answer = httpx.Response(200, content=b'{"code": 200, "data": {"taskI')
        with pytest.raises(KieBadResponse):
            await make_client(Recorder(answer)).create_task(MARKET)

    async def test_missing_task_id_is_a_bad_response(self):
        """A creation answer without a task id raises KieBadResponse."""
        with pytest.raises(KieBadResponse):
            await make_client(Recorder(ok({}))).create_task(MARKET)

    async def test_record_is_null_is_not_found(self):
        """The observed `422 recordInfo is null` raises KieNotFound from get_task."""
        answer = body_error(422, "recordInfo is null")
        with pytest.raises(KieNotFound):
            await make_client(Recorder(answer)).get_task(Family.MARKET, KieTaskId("x"))


TRANSIENT_READ = [
    httpx.ReadTimeout("slow"),
    httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("eof"),
    body_error(429),
    httpx.Response(429, text=""),
    body_error(455),
    body_error(500),
    httpx.Response(502, text="bad gateway"),
]


class TestRetries:
    @pytest.mark.parametrize("failure", TRANSIENT_READ, ids=lambda f: repr(f)[:40])
    async def test_reads_retry_transient_failures(self, failure):
        """A read retries a transient failure and returns the next good answer."""
        recorder = Recorder(failure, ok(42))
        sleeps = Sleeps()
        assert await make_client(recorder, sleeps).credits() == 42
        assert len(recorder.requests) == 2
        assert len(sleeps.delays) == 1

    @pytest.mark.parametrize(
        "failure", [body_error(402), body_error(422), body_error(401), body_error(501)]
    )
    async def test_reads_do_not_retry_definite_answers(self, failure):
        """A read does not retry 401, 402, 422 or 501."""
        recorder = Recorder(failure)
        with pytest.raises(Exception, match="KIE"):
            await make_client(recorder).credits()
        assert len(recorder.requests) == 1

    async def test_attempts_are_bounded(self):
        """A read gives up after the policy's attempts and raises the last error."""
        recorder = Recorder(body_error(500))
        sleeps = Sleeps()
        with pytest.raises(KieServerError):
            await make_client(recorder, sleeps, attempts=3).credits()
        assert len(recorder.requests) == 3
        assert len(sleeps.delays) == 2

    async def test_backoff_is_jittered_and_bounded(self):
        """Delays are random but never above base × 2^attempt."""
        recorder = Recorder(body_error(500))
        sleeps = Sleeps()
        with pytest.raises(KieServerError):
            await make_client(recorder, sleeps, attempts=4).credits()
        for attempt, delay in enumerate(sleeps.delays):
            assert 0 <= delay <= 0.5 * 2**attempt

    @pytest.mark.parametrize(
        "failure",
        [
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("slow connect"),
            body_error(429),
            httpx.Response(429, text=""),
            body_error(455),
        ],
        ids=["connect-error", "connect-timeout", "429-body", "429-http", "455"],
    )
    async def test_creations_retry_when_nothing_was_created(self, failure):
        """A creation is retried after a failure that provably created nothing."""
        recorder = Recorder(failure, ok({"taskId": "t2"}))
        assert await make_client(recorder).create_task(MARKET) == "t2"
        assert len(recorder.requests) == 2

    @pytest.mark.parametrize(
        "failure",
        [
            httpx.ReadTimeout("slow"),
            httpx.RemoteProtocolError("eof"),
            body_error(500),
            httpx.Response(502, text=""),
            body_error(402),
            body_error(422),
        ],
        ids=["read-timeout", "broken", "500-body", "502-http", "402", "422"],
    )
    async def test_creations_do_not_retry_when_a_task_may_exist(self, failure):
        """A creation is not retried after a timeout, a broken connection or a 5xx."""
        recorder = Recorder(failure, ok({"taskId": "t2"}))
        with pytest.raises(Exception, match="KIE"):
            await make_client(recorder).create_task(MARKET)
        assert len(recorder.requests) == 1

    async def test_retry_after_is_honoured(self):
        """A 429 with Retry-After waits exactly that long before retrying."""
        limited = httpx.Response(429, headers={"Retry-After": "7"}, text="")
        sleeps = Sleeps()
        await make_client(Recorder(limited, ok(1)), sleeps).credits()
        assert sleeps.delays == [7.0]


class TestGetTaskStates:
    async def test_market_success_record(self):
        """get_task returns a normalised success record with result URLs."""
        data = {"taskId": "t", "state": "success", "resultJson": '{"resultUrls":["u"]}'}
        record = await make_client(Recorder(ok(data))).get_task(Family.MARKET, KieTaskId("t"))
        assert (record.state, record.result_urls) == (TaskState.SUCCESS, ("u",))
