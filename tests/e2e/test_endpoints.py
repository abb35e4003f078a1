"""The server's edges under hostile input: every bad request is a 4xx and changes nothing."""

from __future__ import annotations

import gc
import io
import json

import aiohttp
import pytest

from tests.e2e.conftest import SECRETS, USER, Stack, server_metric
from trt.domain import JobState
from trt.kie.callbacks import sign
from trt.kie.states import TaskState

HOOK = f"/webhook/{SECRETS['webhook_secret_path']}"
CALLBACK = f"/callbacks/kie/{SECRETS['kie_callback_token']}"
GOOD_HEADER = {"X-Telegram-Bot-Api-Secret-Token": SECRETS["webhook_secret_token"]}


async def post(stack: Stack, path: str, body: bytes, headers: dict[str, str] | None = None):
    async with aiohttp.ClientSession() as http:
        data = io.BytesIO(body)  # aiohttp warns about large raw bytes bodies
        async with http.post(stack.base_url + path, data=data, headers=headers or {}) as r:
            return r.status, await r.text()


def update(update_id: int, text: str = "/start") -> bytes:
    message = {"message_id": 1, "date": 0, "chat": {"id": USER, "type": "private"},
               "from": {"id": USER, "is_bot": False, "first_name": "U"}, "text": text}  # fmt: skip
    return json.dumps({"update_id": update_id, "message": message}).encode()


class TestHeap:
    async def test_the_start_up_heap_is_out_of_the_collectors_sight(self, stack: Stack):
        """While serving, what start-up built is frozen: full collections skip it."""
        assert gc.get_freeze_count() > 100_000


class TestHealth:
    async def test_health_reports_modes_without_io(self, stack: Stack) -> None:
        """/health says which storage, KIE mode and bot mode run."""
        async with aiohttp.ClientSession() as http, http.get(stack.base_url + "/health") as r:
            body = await r.json()
        assert (r.status, body["storage"], body["kie_mode"], body["bot_mode"]) == (
            200, "sqlite", "emulator", "webhook",
        )  # fmt: skip

    async def test_ready_and_metrics(self, stack: Stack) -> None:
        """/ready is 200 on a migrated database; /metrics is Prometheus text with job states."""
        async with aiohttp.ClientSession() as http:
            async with http.get(stack.base_url + "/ready") as r:
                assert r.status == 200
            async with http.get(stack.base_url + "/metrics") as r:
                text = await r.text()
        assert 'trt_jobs{state="delivered"}' in text


class TestWebhook:
    async def test_wrong_path_is_404(self, stack: Stack) -> None:
        """A guessed webhook path is indistinguishable from no route."""
        status, _ = await post(stack, "/webhook/guess", update(1), GOOD_HEADER)
        assert status == 404

    @pytest.mark.parametrize("header", [{}, {"X-Telegram-Bot-Api-Secret-Token": "nope"}])
    async def test_wrong_secret_token_is_401(self, stack: Stack, header) -> None:
        """A missing or wrong secret header is refused and nothing is recorded."""
        status, _ = await post(stack, HOOK, update(2), header)
        assert status == 401
        assert await server_metric(stack, 'trt_updates_total{outcome="new"}') == 0
        assert await server_metric(stack, 'trt_updates_total{outcome="duplicate"}') == 0

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"[]",
            b'{"update_id": "x"}',
            b'{"update_id": -1}',
            b"",
            b'{"update_id": 9223372036854775808}',
        ],  # fmt: skip
    )
    async def test_malformed_update_is_400(self, stack: Stack, body: bytes) -> None:
        """Bodies that are not an update object (or an id past 64 bits) are 400, never 500."""
        status, _ = await post(stack, HOOK, body, GOOD_HEADER)
        assert status == 400

    async def test_a_sender_id_past_64_bits_is_stored_and_ignored(self, stack: Stack) -> None:
        """A forged sender id no database column holds: the update is taken (200) and
        left unanswered, and the updates around it are answered as usual."""
        forged = json.loads(update(80))
        forged["message"]["from"]["id"] = forged["message"]["chat"]["id"] = 2**64
        status, _ = await post(stack, HOOK, json.dumps(forged).encode(), GOOD_HEADER)
        assert status == 200
        assert (await post(stack, HOOK, update(81), GOOD_HEADER))[0] == 200
        await stack.tg.wait_for_message(USER, lambda _: True)
        assert await server_metric(stack, 'trt_updates_total{outcome="new"}') == 2

    async def test_oversized_update_is_413(self, stack: Stack) -> None:
        """A body over the limit is refused before it is parsed."""
        status, _ = await post(stack, HOOK, b"{" + b" " * (2 * 1024 * 1024) + b"}", GOOD_HEADER)
        assert status == 413

    async def test_repeated_update_is_acknowledged_and_ignored(self, stack: Stack) -> None:
        """The same update_id twice: both 200, the second counted as a duplicate, one reply."""
        for _ in range(2):
            status, _ = await post(stack, HOOK, update(77), GOOD_HEADER)
            assert status == 200
        # Any message: the reply may have come before the second POST was answered.
        await stack.tg.wait_for_message(USER, lambda _: True)
        assert await server_metric(stack, 'trt_updates_total{outcome="duplicate"}') == 1
        assert len(stack.tg.chat(USER).bot_messages()) == 1


class TestKieCallback:
    async def test_wrong_token_is_401(self, stack: Stack) -> None:
        """A callback to a guessed token is refused and counted as such."""
        status, _ = await post(stack, "/callbacks/kie/guess", b"{}")
        assert status == 401
        assert await server_metric(stack, 'trt_callbacks_total{outcome="bad_token"}') == 1

    @pytest.mark.parametrize("body", [b"{oops", b"[]", b'{"code": 200}'])
    async def test_malformed_callback_is_400(self, stack: Stack, body: bytes) -> None:
        """A body that is not a KIE callback is 400, counted as malformed."""
        status, _ = await post(stack, CALLBACK, body)
        assert status == 400
        assert await server_metric(stack, 'trt_callbacks_total{outcome="malformed"}') == 1

    async def test_oversized_callback_is_413(self, stack: Stack) -> None:
        """A callback body over the limit is refused."""
        status, _ = await post(stack, CALLBACK, b"{" + b" " * (300 * 1024) + b"}")
        assert status == 413

    async def test_forged_success_for_a_real_job_changes_nothing(self, stack: Stack) -> None:
        """A forged 'success' body only makes trt ask KIE, which says the task still runs."""
        gen = stack.services.generation
        job = await gen.start(USER, gen.quote("google/nano-banana", {"prompt": "x"}), chat_id=USER)
        stack.kie.set_state(job.kie_task_id or "", TaskState.GENERATING)  # KIE: still working
        forged = {
            "code": 200,
            "data": {
                "taskId": job.kie_task_id,
                "state": "success",
                "resultJson": json.dumps({"resultUrls": ["https://evil.example/x.png"]}),
            },
        }
        status, _ = await post(stack, CALLBACK, json.dumps(forged).encode())
        assert status == 200
        current = await stack.services.store.jobs.get(job.id)
        assert current.state in (JobState.SUBMITTED, JobState.RUNNING)
        assert current.result_urls == ()
        assert await server_metric(stack, 'trt_callbacks_total{outcome="accepted"}') >= 1

    async def test_unknown_task_is_200_and_ignored(self, stack: Stack) -> None:
        """KIE is told 200 for a task trt does not know, so it stops retrying."""
        body = {"code": 200, "data": {"taskId": "never-made", "state": "success"}}
        status, _ = await post(stack, CALLBACK, json.dumps(body).encode())
        assert status == 200


class TestSignedCallbacks:
    @pytest.fixture
    def hmac_key(self) -> str:
        return "hmac-SECRET-5"

    async def test_bad_signature_is_401(self, stack: Stack, hmac_key: str) -> None:
        """With an HMAC key set, a wrong or missing signature is refused and counted."""
        body = json.dumps({"code": 200, "data": {"taskId": "t1", "state": "success"}}).encode()
        status, _ = await post(stack, CALLBACK, body)
        assert status == 401
        headers = {"X-Webhook-Timestamp": "1700000000", "X-Webhook-Signature": "AAAA"}
        status, _ = await post(stack, CALLBACK, body, headers)
        assert status == 401
        assert await server_metric(stack, 'trt_callbacks_total{outcome="bad_signature"}') == 2

    async def test_unreadable_body_is_400_even_with_a_key(self, stack: Stack, hmac_key: str):
        """A signed server still answers a body that is not a callback with 400, not 401."""
        status, _ = await post(stack, CALLBACK, b"{oops")
        assert status == 400
        assert await server_metric(stack, 'trt_callbacks_total{outcome="malformed"}') == 1

    async def test_stale_signature_is_401(self, stack: Stack, hmac_key: str) -> None:
        """A correctly signed but old callback (a replay) is refused."""
        body = json.dumps({"code": 200, "data": {"taskId": "t1", "state": "success"}}).encode()
        headers = {"X-Webhook-Timestamp": "1700000000",
                   "X-Webhook-Signature": sign("t1", "1700000000", hmac_key)}  # fmt: skip
        status, _ = await post(stack, CALLBACK, body, headers)
        assert status == 401
