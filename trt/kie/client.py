"""The KIE port over HTTP (httpx), with the retry rule in one place."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import httpx

from trt.domain import Family, KieTaskId
from trt.errors import KieError
from trt.kie import wire
from trt.kie.base import CreateTask, TaskRecord
from trt.kie.errors import (
    KieBadResponse,
    KieNetworkError,
    KieRateLimited,
    KieTimeout,
    is_retryable,
    nothing_created,
)
from trt.kie.parse import decimal_or_none, parse_response, retry_after_seconds, task_id_of
from trt.kie.records import parse_record

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
CallKind = Literal["read", "create"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with full-jitter exponential backoff; Retry-After wins when given."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int, error: KieError, rng: random.Random) -> float:
        if isinstance(error, KieRateLimited) and error.retry_after is not None:
            return min(error.retry_after, self.max_delay * 6)
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


async def backoff_sleep(delay: float) -> None:
    """The default pause between attempts; tests pass their own `sleep` instead."""
    await asyncio.sleep(delay)


def should_retry(kind: CallKind, error: KieError) -> bool:
    """The retry rule.

    Reads (record queries, credits, download links, uploads, which overwrite by name) are
    safe to repeat, so any transient failure is retried: timeouts, broken connections,
    429, 455 and 5xx. A creation is retried only when KIE certainly created nothing: the
    connection was never made (nothing was sent), or KIE answered 429 (excess requests
    "are not queued") or 455 (maintenance). After a timeout or a 500 the task may exist
    and a second request could start, and bill, a second generation; the pipeline settles
    those by asking KIE instead.
    """
    if not is_retryable(error):
        return False
    return kind == "read" or nothing_created(error)


class KieClient:
    """`KieApi` over httpx. Build with `KieClient.connect(...)`, or pass your own client
    (tests use ``httpx.MockTransport``); the key travels only in the Authorization header.
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_key: str,
        upload_base_url: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        upload_path: str = wire.DEFAULT_UPLOAD_PATH,
    ) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._upload_base = (upload_base_url or str(http.base_url)).rstrip("/")
        self._retry = retry or RetryPolicy()
        self._sleep = sleep or backoff_sleep
        self._rng = rng or random.Random()
        self._upload_path = upload_path

    @classmethod
    def connect(
        cls,
        *,
        api_key: str,
        base_url: str,
        upload_base_url: str,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> KieClient:
        """A client with its own connection pool; close it with `aclose()`."""
        http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            headers={"User-Agent": "trt"},
        )
        return cls(http=http, api_key=api_key, upload_base_url=upload_base_url, retry=retry)

    async def create_task(self, request: CreateTask) -> KieTaskId:
        path = wire.CREATE_PATH[request.family]
        data = await self._call("create", "POST", path, json=wire.create_body(request))
        return task_id_of(data)

    async def get_task(self, family: Family, task_id: KieTaskId) -> TaskRecord:
        path = wire.RECORD_PATH[family]
        data = await self._call("read", "GET", path, params={"taskId": task_id})
        return parse_record(family, data)

    async def credits(self) -> Decimal:
        data = await self._call("read", "GET", wire.CREDITS_PATH)
        amount = decimal_or_none(data)
        if amount is None:
            raise KieBadResponse(200, json.dumps(data, default=str), "credits is not a number")
        return amount

    async def download_url(self, url: str) -> str:
        data = await self._call("read", "POST", wire.DOWNLOAD_URL_PATH, json={"url": url})
        return _string(data, "download URL")

    async def veo_1080p(self, task_id: KieTaskId, index: int | None = None) -> str:
        params: dict[str, Any] = {"taskId": task_id}
        if index is not None:
            params["index"] = index
        data = await self._call("read", "GET", wire.VEO_1080P_PATH, params=params)
        return _string(data.get("resultUrl") if isinstance(data, Mapping) else data, "1080p URL")

    async def upload_file(self, name: str, content: bytes, mime: str) -> str:
        url = self._upload_base + wire.UPLOAD_STREAM_PATH
        fields = {"uploadPath": self._upload_path, "fileName": name}
        files = {"file": (name, content, mime)}
        data = await self._call("read", "POST", url, data=fields, files=files)
        return _uploaded_url(data)

    async def upload_base64(self, name: str, content: bytes, mime: str) -> str:
        url = self._upload_base + wire.UPLOAD_BASE64_PATH
        body = wire.base64_upload_body(name, content, mime, self._upload_path)
        data = await self._call("read", "POST", url, json=body)
        return _uploaded_url(data)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, kind: CallKind, method: str, url: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await self._once(method, url, **kwargs)
            except KieError as error:
                attempt += 1
                if attempt >= self._retry.attempts or not should_retry(kind, error):
                    raise
                delay = self._retry.delay(attempt - 1, error, self._rng)
                logger.info(
                    "KIE %s %s failed (%r); retry %d in %.2fs", method, url, error, attempt, delay
                )
                await self._sleep(delay)

    async def _once(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, url, headers=self._headers, **kwargs)
        # A connect timeout and a pool timeout happen before any byte of the request is sent.
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise KieTimeout(sent=False, what=type(e).__name__) from e
        except httpx.TimeoutException as e:
            raise KieTimeout(sent=True, what=type(e).__name__) from e
        except httpx.ConnectError as e:
            raise KieNetworkError(sent=False, what=type(e).__name__) from e
        except httpx.TransportError as e:
            raise KieNetworkError(sent=True, what=type(e).__name__) from e
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return parse_response(response.status_code, response.content, retry_after=retry_after)


def _string(value: object, what: str) -> str:
    if isinstance(value, str) and value:
        return value
    raise KieBadResponse(200, json.dumps(value, default=str)[:500], f"no {what} in the answer")


def _uploaded_url(data: object) -> str:
    # The endpoint specs return downloadUrl; the upload quickstart shows fileUrl (API.md §3.3).
    if isinstance(data, Mapping):
        return _string(data.get("downloadUrl") or data.get("fileUrl"), "file URL")
    return _string(None, "file URL")
