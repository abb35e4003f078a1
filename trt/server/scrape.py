"""GET /metrics: the in-memory metrics, for Prometheus, behind a bearer token.

With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <token>`; without it,
only clients on this machine (loopback) may scrape, so a public deployment never serves
its figures to anyone who asks. Jobs by state come from the database at most once per
`JOBS_REFRESH_SECONDS`, in the background: a scrape never waits on the database.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import time

from aiohttp import web

from trt.core.metrics import CONTENT_TYPE
from trt.core.services import Services
from trt.domain import JobState
from trt.errors import TrtError
from trt.server.edge import header_bytes

logger = logging.getLogger(__name__)

JOBS_REFRESH_SECONDS = 60.0


class MetricsEndpoint:
    def __init__(self, services: Services, token: str | None) -> None:
        self.services = services
        self.expected = f"Bearer {token}".encode() if token else None
        self.refreshed_at: float | None = None
        self.refreshing: asyncio.Task[None] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self._authorise(request)
        if self.refreshed_at is None:
            await self._refresh()  # the first scrape waits once, so it has every series
        elif time.monotonic() - self.refreshed_at > JOBS_REFRESH_SECONDS and not self.refreshing:
            self.refreshing = asyncio.create_task(self._refresh())
            self.refreshing.add_done_callback(self._refreshed)
        body = self.services.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    def _authorise(self, request: web.Request) -> None:
        """Raises: HTTPUnauthorized (wrong or missing token), HTTPForbidden (no token set
        and the client is not on this machine)."""
        if self.expected is not None:
            given = header_bytes(request.headers.get("Authorization", ""))
            if not _same(given, self.expected):
                raise web.HTTPUnauthorized(
                    text="metrics need a bearer token", headers={"WWW-Authenticate": "Bearer"}
                )
        elif not _loopback(request.remote):
            raise web.HTTPForbidden(text="set METRICS_TOKEN to scrape from another machine")

    async def _refresh(self) -> None:
        self.refreshed_at = time.monotonic()  # also on failure: retry after the interval
        try:
            counts = await self.services.store.jobs.count_by_state()
        except TrtError as exc:  # a database hiccup: keep the last figures
            logger.warning("jobs-by-state metric not refreshed: %s", exc)
            return
        by_state = {state.value: float(counts[state]) for state in JobState}
        self.services.metrics.set_all("trt_jobs", "state", by_state)

    def _refreshed(self, task: asyncio.Task[None]) -> None:
        self.refreshing = None
        if not task.cancelled() and task.exception() is not None:
            logger.warning("jobs-by-state metric not refreshed: %r", task.exception())


def _same(given: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(given, expected)


def _loopback(remote: str | None) -> bool:
    try:
        return ipaddress.ip_address(remote or "").is_loopback
    except ValueError:
        return False
