"""The server's edge against hostile and clumsy clients: connection limits, request bodies
read whole but bounded, bodies parsed without crashing, and one rate-limited warning line
per refused request.

Telegram and KIE never compress what they send, so a Content-Encoding is refused before a
byte of the body is read and nothing is ever inflated (aiohttp would otherwise inflate a
gzip bomb on the event loop, even on a path that ends in 404).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from trt.errors import PortUnavailable
from trt.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

# A request body must arrive within this; Telegram and KIE send theirs at once.
BODY_SECONDS = 30.0
# Telegram updates nest a dozen levels at most; a deeper body is not an update.
MAX_JSON_DEPTH = 64
# Refusal warnings: a burst of 5 per client address, then one every 10 s.
WARN_BURST = 5.0
WARN_EVERY_SECONDS = 10.0
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class BadBody(ValueError):
    """A request body that is not the JSON object expected."""


def read_json_object(body: bytes) -> dict[str, Any]:
    """Parse a JSON object of bounded depth. Raises: BadBody saying what is wrong."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise BadBody("body is nested too deeply") from None
    except ValueError:  # also UnicodeDecodeError: bytes that are no Unicode text
        raise BadBody("body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadBody("body is not a JSON object")
    # A lone surrogate escape ("\ud800") is valid JSON: the inbox stores such text
    # cleaned, and the update is answered like any other.
    if _depth(payload) > MAX_JSON_DEPTH:
        raise BadBody(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    return payload


def _depth(value: object) -> int:
    """How deeply containers nest, iteratively: the body may be deeper than the C stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                stack.extend((child, level + 1) for child in item)
    return deepest


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, however many TCP writes it came in, up to `limit` bytes.

    Raises: HTTPRequestEntityTooLarge past the limit, HTTPRequestTimeout when it trickles.
    """
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            while chunk := await request.content.read(limit + 1 - size):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the body did not arrive in time") from None
    return b"".join(chunks)


def header_bytes(value: str) -> bytes:
    """A header as its raw bytes: aiohttp keeps undecodable bytes as surrogate escapes,
    which a plain `.encode()` refuses."""
    return value.encode("utf-8", "surrogateescape")


class RefusalLog:
    """One WARNING line per refused request, rate-limited per client address so that a
    flood of bad requests cannot flood the log."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}
        self.suppressed = 0
        # Requests being refused whose handler logged the refusal itself (as an operational
        # event): by id, for the moment from the handler's raise to the middleware's catch.
        self._logged: set[int] = set()

    def handler_logged(self, request: web.Request) -> None:
        """The handler logged this request's refusal: the edge adds no line of its own."""
        self._logged.add(id(request))

    def logged_by_handler(self, request: web.Request) -> bool:
        return id(request) in self._logged

    def forget(self, request: web.Request) -> None:
        self._logged.discard(id(request))

    def allowed(self, source: str) -> bool:
        """Whether a line about `source` may be written now (and count it if so)."""
        now = self.clock()
        bucket = self.buckets.get(source)
        if bucket is None:
            self._forget_idle(now)
            rate = 1 / WARN_EVERY_SECONDS
            bucket = self.buckets[source] = TokenBucket(rate, WARN_BURST, now=now)
        if bucket.delay(now) > 0:
            self.suppressed += 1
            return False
        bucket.take(now)
        return True

    def warn(self, request: web.Request, status: int, reason: str) -> None:
        source = request.remote or "unknown"
        if self.allowed(source):
            logger.warning(
                "refused %s %s from %s: %d %s", request.method, _route(request), source,
                status, reason[:200],
            )  # fmt: skip

    def _forget_idle(self, now: float) -> None:
        if len(self.buckets) >= 10_000:
            self.buckets = {k: b for k, b in self.buckets.items() if not b.idle(now)}


class MalformedHttpFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a bad header line, a bad Content-Length…)
    as an ERROR with a traceback. Make it one WARNING line, rate-limited per client."""

    def __init__(self, refusals: RefusalLog) -> None:
        super().__init__()
        self.refusals = refusals

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        source = str(record.args[0]) if isinstance(record.args, tuple) and record.args else "?"
        if not self.refusals.allowed(source):
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "refused a malformed request from %s: %d %s"
        record.args = (source, exc.code, str(exc.message)[:200])
        record.exc_info, record.exc_text = None, None
        return True


def quiet_malformed_requests(refusals: RefusalLog) -> None:
    """Install the filter on aiohttp's server logger, replacing one installed before."""
    server_log = logging.getLogger("aiohttp.server")
    for old in [f for f in server_log.filters if isinstance(f, MalformedHttpFilter)]:
        server_log.removeFilter(old)
    server_log.addFilter(MalformedHttpFilter(refusals))


def _route(request: web.Request) -> str:
    """The route's pattern (`/webhook/{secret}`), never the path: paths hold secrets."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def edge_middleware(refusals: RefusalLog) -> Any:
    """Refuse compressed bodies before reading them; log each refusal as one warning."""

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        try:
            if encoding not in ("", "identity"):
                raise web.HTTPUnsupportedMediaType(text="compressed request bodies are refused")
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400 and not refusals.logged_by_handler(request):
                refusals.warn(request, exc.status, exc.text or exc.reason)
            raise
        finally:
            refusals.forget(request)

    return edge


class GuardedRunner(web.AppRunner):
    """aiohttp's runner with bounded header and idle time, no inflation of request bodies,
    and a cap on open connections.

    A client has `idle_seconds` from connecting (or from its last response) to send a
    complete request head, and an idle keep-alive connection is closed after as long:
    aiohttp's default is an hour, which let slow clients pile up to the open-file limit.
    Connections beyond `max_connections` are answered 503 and closed at once, so the
    process keeps file descriptors for the database and Telegram.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        shutdown_timeout: float,
        idle_seconds: float,
        max_connections: int,
    ) -> None:
        super().__init__(
            app, access_log=None, shutdown_timeout=shutdown_timeout,
            keepalive_timeout=idle_seconds, auto_decompress=False,
        )  # fmt: skip
        self.max_connections = max_connections
        self.cap: ConnectionCap | None = None

    @property
    def server(self) -> web.Server | None:
        # Sites build each connection's protocol from this factory: capping it caps them all.
        real = super().server
        if real is None:
            return None
        if self.cap is None or self.cap.real is not real:
            self.cap = ConnectionCap(real, self.max_connections)
        return self.cap  # type: ignore[return-value]  # a Server's factory role is all a site uses


async def listen(runner: web.BaseRunner, host: str, port: int) -> None:
    """Start serving on host:port. Raises: PortUnavailable (taken, or not this machine's)."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        raise PortUnavailable(
            host, port, os.strerror(exc.errno) if exc.errno else str(exc)
        ) from None


class ConnectionCap:
    """A protocol factory that answers 503 and closes once `limit` connections are open."""

    def __init__(self, real: web.Server, limit: int) -> None:
        self.real = real
        self.limit = limit
        self.refused = 0

    def __call__(self) -> asyncio.Protocol:
        if len(self.real.connections) >= self.limit:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                logger.warning(
                    "refused a connection: %d open, the limit (%d refused so far)",
                    self.limit, self.refused,
                )  # fmt: skip
            return _Busy()
        return self.real()


class _Busy(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(_BUSY)
        transport.close()
