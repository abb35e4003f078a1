"""`trt serve`'s HTTP edge against hostile clients, over raw sockets on loopback: bodies in
several writes, unparsable bodies, undecodable headers, compression, slow and idle clients,
too many connections, and what a refusal leaves in the log."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging

import aiohttp
import pytest

from tests.e2e.conftest import SECRETS, USER, Stack, server_metric
from tests.e2e.test_endpoints import CALLBACK, GOOD_HEADER, HOOK, post, update
from trt.kie.callbacks import SIGNATURE_HEADER, TIMESTAMP_HEADER

TOKEN = SECRETS["webhook_secret_token"]


async def raw_exchange(stack: Stack, head: bytes, *bodies: bytes) -> tuple[int, bytes]:
    """Send a request head and then each body part as its own write; the status and the body."""
    port = stack.settings.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        for part in bodies:
            writer.write(part)
            await writer.drain()
        async with asyncio.timeout(10):
            answer = await reader.read()  # the server closes: we ask for Connection: close
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def request_head(path: str, length: int, headers: bytes = b"") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n".encode()
        + headers
        + b"\r\n"
    )


def big_update(update_id: int, size: int) -> bytes:
    payload = json.loads(update(update_id))
    payload["message"]["text"] = "/start"
    payload["padding"] = "x" * size  # an unknown field Telegram might add; the bot ignores it
    return json.dumps(payload).encode()


class TestBodies:
    @pytest.mark.parametrize("size", [200_000, 900_000])
    async def test_an_update_in_several_writes_is_read_whole(self, stack: Stack, size: int):
        """A large update written in pieces is taken (200), not cut where a read stopped."""
        body = big_update(500 + size % 7, size)
        parts = [body[i : i + 65_536] for i in range(0, len(body), 65_536)]
        head = request_head(
            HOOK, len(body), f"X-Telegram-Bot-Api-Secret-Token: {TOKEN}\r\n".encode()
        )
        status, answer = await raw_exchange(stack, head, *parts)
        assert (status, answer) == (200, b'{"ok": true}')
        assert await server_metric(stack, 'trt_updates_total{outcome="new"}') == 1

    @pytest.mark.parametrize("path", [HOOK, CALLBACK])
    @pytest.mark.parametrize("depth", [100, 5_000, 100_000])
    async def test_deep_nesting_is_400(self, stack: Stack, path: str, depth: int) -> None:
        """A body nested past the recursion limit (or just absurdly) is a 400, never a 500."""
        body = b'{"update_id": 1, "a": ' + b"[" * depth + b"]" * depth + b"}"
        status, _ = await post(stack, path, body, GOOD_HEADER)
        assert status == 400

    @pytest.mark.parametrize("path", [HOOK, CALLBACK])
    @pytest.mark.parametrize(
        "body", [b'{"update_id": 1, "x": "\xff\xfe"}', b'{"update_id": 2, "x": "\xc3("}']
    )
    async def test_bytes_that_are_not_utf8_are_400(self, stack: Stack, path: str, body: bytes):
        """A body that is not UTF-8 text is a 400 and records nothing."""
        status, _ = await post(stack, path, body, GOOD_HEADER)
        assert status == 400
        assert await server_metric(stack, 'trt_updates_total{outcome="new"}') == 0


class TestHeaders:
    async def test_undecodable_secret_token_is_401(self, stack: Stack) -> None:
        """Non-UTF-8 bytes in the webhook secret header are a wrong secret: 401."""
        body = update(600)
        head = request_head(HOOK, len(body), b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\xc3\r\n")
        status, _ = await raw_exchange(stack, head, body)
        assert status == 401


class TestSignedEdge:
    @pytest.fixture
    def hmac_key(self) -> str:
        return "hmac-SECRET-5"

    @pytest.mark.parametrize(
        ("timestamp", "signature"),
        [(b"1700000000", b"\xff\xfe\x80"), (b"9" * 4000, b"AAAA"), (b"\xd9\xa1\xd9\xa2", b"AA")],
    )
    async def test_odd_signature_headers_are_401(
        self, stack: Stack, hmac_key: str, timestamp: bytes, signature: bytes
    ) -> None:
        """Undecodable, absurdly long or non-ASCII-digit signature headers are a 401."""
        body = json.dumps({"code": 200, "data": {"taskId": "t1", "state": "success"}}).encode()
        headers = (
            TIMESTAMP_HEADER.encode() + b": " + timestamp + b"\r\n"
            + SIGNATURE_HEADER.encode() + b": " + signature + b"\r\n"
        )  # fmt: skip
        status, _ = await raw_exchange(stack, request_head(CALLBACK, len(body), headers), body)
        assert status == 401


class TestCompression:
    @pytest.mark.parametrize("path", [HOOK, CALLBACK, "/no/such/path"])
    @pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "x-made-up"])
    async def test_a_compressed_body_is_refused_unread(
        self, stack: Stack, path: str, encoding: str
    ) -> None:
        """Any Content-Encoding is 415 on every path, the real ones and a missing one."""
        body = gzip.compress(b"{" + b" " * 5_000_000 + b"}")  # a 5 MB bomb in a few KB
        headers = {**GOOD_HEADER, "Content-Encoding": encoding}
        status, _ = await post(stack, path, body, headers)
        assert status == 415
        assert await server_metric(stack, 'trt_updates_total{outcome="new"}') == 0


@pytest.mark.parametrize(
    "extra_settings", [{"http_idle_seconds": 0.5, "http_max_connections": 4}], indirect=True
)
class TestSlowClients:
    async def test_a_client_that_never_finishes_its_head_is_cut_off(self, stack: Stack) -> None:
        """Half a request head, then silence: the server closes the connection."""
        reader, writer = await asyncio.open_connection("127.0.0.1", stack.settings.port)
        writer.write(b"POST " + HOOK.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        await writer.drain()
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed, unanswered
        writer.close()

    async def test_an_idle_keep_alive_connection_is_closed(self, stack: Stack) -> None:
        """After a response, a keep-alive connection left idle is closed by the server."""
        reader, writer = await asyncio.open_connection("127.0.0.1", stack.settings.port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(5):
            assert (await reader.readline()).startswith(b"HTTP/1.1 200")
            while await reader.read(65_536):  # the rest of the answer, then the close
                pass
        writer.close()

    async def test_connections_past_the_limit_get_503_and_health_recovers(
        self, stack: Stack
    ) -> None:
        """With the limit taken by silent clients, another gets 503; once they are cut off,
        /health answers again."""
        silent = [await keep_alive_client(stack) for _ in range(4)]
        status, _ = await raw_exchange(stack, b"")  # refused before it says anything
        assert status == 503
        async with asyncio.timeout(5):
            for reader, _ in silent:
                while await reader.read(65_536):  # the rest of its answer, then the close
                    pass
        status, _ = await raw_exchange(
            stack, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert status == 200
        for _, writer in silent:
            writer.close()


async def keep_alive_client(stack: Stack) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that made one request (so the server surely holds it) and then idles."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.settings.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    return reader, writer


class TestRefusalLog:
    async def test_each_refusal_is_one_warning_line_rate_limited(
        self, stack: Stack, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Forty malformed requests from one client: at most a burst of warning lines, no
        error, no traceback, and no secret in them."""
        caplog.set_level(logging.INFO)
        for _ in range(40):
            assert (await post(stack, HOOK, b"[" * 5000, GOOD_HEADER))[0] == 400
        refusals = [r for r in caplog.records if r.name == "trt.server.edge"]
        assert 1 <= len(refusals) <= 5
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refusals)
        assert "400" in refusals[0].getMessage() and "127.0.0.1" in refusals[0].getMessage()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert SECRETS["webhook_secret_path"] not in caplog.text

    @pytest.mark.parametrize(
        "head",
        [
            b"GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
            b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        ],
    )
    async def test_unparsable_http_is_a_400_and_a_warning_not_a_traceback(
        self, stack: Stack, caplog: pytest.LogCaptureFixture, head: bytes
    ) -> None:
        """aiohttp's parse errors (it logs them as errors with a traceback) become one
        rate-limited warning line each."""
        caplog.set_level(logging.INFO)
        for _ in range(10):
            status, _ = await raw_exchange(stack, head)
            assert status == 400
        refusals = [r for r in caplog.records if r.name == "aiohttp.server"]
        assert 1 <= len(refusals) <= 5
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refusals)
        assert refusals[0].getMessage().startswith("refused a malformed request from 127.0.0.1")
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    async def test_the_bot_still_answers_after_the_flood(self, stack: Stack) -> None:
        """Refused requests leave the server serving: a good update is answered."""
        for _ in range(10):
            await post(stack, HOOK, b"\xff" * 100, GOOD_HEADER)
        assert (await post(stack, HOOK, update(700), GOOD_HEADER))[0] == 200
        await stack.tg.wait_for_message(USER, lambda _: True)


METRICS_TOKEN = "metrics-SECRET-6"


async def scrape(stack: Stack, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(stack.base_url + "/metrics", headers=headers or {}) as r,
    ):
        return r.status, await r.text()


@pytest.mark.parametrize("extra_settings", [{"metrics_token": METRICS_TOKEN}], indirect=True)
class TestProtectedMetrics:
    @pytest.mark.parametrize(
        "headers",
        [None, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN},
         {"Authorization": "Basic " + METRICS_TOKEN}],
    )  # fmt: skip
    async def test_a_scrape_without_the_token_is_401(self, stack: Stack, headers) -> None:
        """With METRICS_TOKEN set, only `Authorization: Bearer <token>` may scrape."""
        status, text = await scrape(stack, headers)
        assert status == 401 and "trt_" not in text

    async def test_a_scrape_with_the_token_has_the_latency_histograms(self, stack: Stack) -> None:
        """The webhook and callback histograms, labelled by status, after one of each."""
        assert (await post(stack, HOOK, update(900), GOOD_HEADER))[0] == 200
        assert (await post(stack, "/callbacks/kie/guess", b"{}"))[0] == 401
        status, text = await scrape(stack, {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200
        assert 'trt_webhook_seconds_count{status="200"} 1.0' in text
        assert 'trt_callback_seconds_count{status="401"} 1.0' in text
        assert 'trt_jobs{state="delivered"}' in text


class TestMetricsFromMemory:
    async def test_a_scrape_does_not_query_the_database_each_time(self, stack: Stack) -> None:
        """Jobs by state are refreshed at most once a minute: a job made between two scrapes
        shows only after the refresh interval (the scrape itself reads memory)."""
        _, before = await scrape(stack)
        counted = await stack.services.store.jobs.count_by_state()
        gen = stack.services.generation
        await gen.start(USER, gen.quote("google/nano-banana", {"prompt": "x"}), chat_id=USER)
        assert await stack.services.store.jobs.count_by_state() != counted  # one job more
        _, after = await scrape(stack)
        assert jobs_lines(after) == jobs_lines(before) != []


def jobs_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("trt_jobs{")]
