"""The HTTP side of `trt serve`: health, readiness, metrics, the Telegram webhook and the KIE
callback endpoint. Handlers answer fast and hand the work to background tasks."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from aiohttp import web

from trt import __version__
from trt.bot.updates import UpdateProcessor
from trt.core.services import Services
from trt.core.supervisor import Episode
from trt.core.workers import WorkerPool
from trt.domain import KieTaskId, storable_id
from trt.errors import DatabaseUnavailable, TrtError
from trt.kie.callbacks import KieCallback, verify_and_parse
from trt.kie.errors import KieCallbackRejected, KieSignatureRejected
from trt.logs import ThrottledEvents
from trt.server.edge import (
    BadBody,
    Handler,
    RefusalLog,
    edge_middleware,
    header_bytes,
    quiet_malformed_requests,
    read_body,
    read_json_object,
)
from trt.server.scrape import MetricsEndpoint

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "webhook"
MAX_UPDATE_BYTES = 1024 * 1024  # Telegram updates are far smaller
MAX_CALLBACK_BYTES = 256 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SETTLE_WORKERS = 8
SETTLE_QUEUE = 20_000
READY_CHECK_SECONDS = 5.0


def same(given: str, expected: str | None) -> bool:
    """Constant-time comparison; nothing matches an unset secret, nor undecodable bytes."""
    return expected is not None and hmac.compare_digest(header_bytes(given), expected.encode())


class TrtServer:
    def __init__(
        self,
        services: Services,
        updates: UpdateProcessor | None,
        *,
        is_leader: Callable[[], bool] = lambda: False,
        failing: Callable[[], list[str]] = list,
        webhook_outage: Episode | None = None,
        settle_outage: Episode | None = None,
    ) -> None:
        self.services = services
        self.updates = updates
        self.is_leader = is_leader
        self.failing = failing  # the supervised tasks failing now
        self.webhook_outage = webhook_outage or Episode("webhook")
        self.started = time.monotonic()
        # Settling after a callback runs on a few workers; a full queue is harmless (the
        # reconciler polls the job later), an unbounded task per callback is not.
        self.settlements: WorkerPool[KieCallback] = WorkerPool(
            self._settle, workers=SETTLE_WORKERS, capacity=SETTLE_QUEUE
        )
        self.settle_outage = settle_outage or Episode("callback settlement")
        settings = services.settings
        self.webhook_path = _secret(settings.webhook_secret_path)
        self.webhook_token = _secret(settings.webhook_secret_token)
        self.hmac_key = _secret(settings.kie_webhook_hmac_key)
        self.rejections = ThrottledEvents(logger)  # strangers choose how often: throttled
        self.refusals = RefusalLog()
        quiet_malformed_requests(self.refusals)
        self.scrape = MetricsEndpoint(services, _secret(settings.metrics_token))

    async def _settle(self, callback: KieCallback) -> None:
        """Settle after a callback. While the database or KIE is away the job stays as it
        is and the reconciler polls it later: one log line per outage, not per callback."""
        try:
            await self.services.generation.on_callback(
                KieTaskId(callback.task_id), credits=callback.consumed_credits
            )
        except Exception as exc:
            self.settle_outage.failed(exc)
        else:
            self.settle_outage.ok()

    def build_app(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_UPDATE_BYTES, middlewares=[edge_middleware(self.refusals)]
        )
        callback_path = self.services.settings.kie_callback_path.strip("/")
        app.add_routes([
            web.get("/health", self.health),
            web.get("/ready", self.ready),
            web.get("/metrics", self.scrape.handle),
            web.post(f"/{WEBHOOK_PREFIX}/{{secret}}",
                     partial(self._observed, "trt_webhook_seconds", self.telegram_webhook)),
            web.post(f"/{callback_path}/{{token}}",
                     partial(self._observed, "trt_callback_seconds", self.kie_callback)),
        ])  # fmt: skip
        return app

    async def health(self, _: web.Request) -> web.Response:
        s = self.services.settings
        failing = self.failing()
        return web.json_response({
            "status": "degraded" if failing else "ok", "failing": failing,
            "uptime": round(time.monotonic() - self.started, 3),
            "version": __version__, "storage": s.storage_kind,
            "kie_mode": "emulator" if self.services.kie_emulated else "real",
            "bot_mode": s.bot_mode.value, "leader": self.is_leader(),
            **self._maintenance(),
        })  # fmt: skip

    def _maintenance(self) -> dict[str, object]:
        """Maintenance is a choice, not a fault: shown, and the status stays as it is."""
        state = self.services.controls.maintenance
        shown: dict[str, object] = {"maintenance": state.on}
        if state.on and state.message:
            shown["maintenance_message"] = state.message
        return shown

    async def ready(self, _: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(READY_CHECK_SECONDS):
                await self.services.store.check_schema()
        except TrtError as exc:
            return web.json_response({"ready": False, "reason": exc.message}, status=503)
        except TimeoutError:
            reason = f"the database did not answer within {READY_CHECK_SECONDS:g} s"
            return web.json_response({"ready": False, "reason": reason}, status=503)
        return web.json_response({"ready": True})

    async def _observed(
        self, name: str, handler: Handler, request: web.Request
    ) -> web.StreamResponse:
        """Run `handler`, observing its time labelled with the status it answered."""
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            elapsed = time.perf_counter() - started
            self.services.metrics.observe(name, elapsed, status=str(status))

    async def telegram_webhook(self, request: web.Request) -> web.Response:
        if not same(request.match_info["secret"], self.webhook_path):
            self._rejected("webhook_rejected", "wrong secret path (404)", request)
            raise web.HTTPNotFound
        if not same(request.headers.get(SECRET_HEADER, ""), self.webhook_token):
            self._rejected("webhook_rejected", "wrong secret token (401)", request)
            raise web.HTTPUnauthorized(text="wrong secret token")
        payload = await _json_body(request, MAX_UPDATE_BYTES)
        update_id = payload.get("update_id")
        if not storable_id(update_id):
            raise web.HTTPBadRequest(text="update_id must be an integer from 0 to 2^63 - 1")
        if self.updates is None:
            raise web.HTTPServiceUnavailable(text="no bot configured")
        try:
            await self.updates.receive(update_id, payload)
        except DatabaseUnavailable as exc:  # not stored: Telegram delivers it again later
            self.webhook_outage.failed(exc)
            raise web.HTTPServiceUnavailable(
                text="the database is unavailable; retry later", headers={"Retry-After": "5"}
            ) from None
        self.webhook_outage.ok()
        return web.json_response({"ok": True})

    async def kie_callback(self, request: web.Request) -> web.Response:
        metrics = self.services.metrics
        if not same(request.match_info["token"], self.services.callback_token):
            metrics.inc("trt_callbacks_total", outcome="bad_token")
            self._rejected("callback_rejected", "wrong callback token (401)", request)
            raise web.HTTPUnauthorized(text="wrong callback token")
        body = await read_body(request, MAX_CALLBACK_BYTES)
        try:
            callback = verify_and_parse(body, request.headers, key=self.hmac_key)
        except KieSignatureRejected as exc:
            metrics.inc("trt_callbacks_total", outcome="bad_signature")
            self._rejected("callback_rejected", f"HMAC signature: {exc.message} (401)", request)
            raise web.HTTPUnauthorized(text=exc.message) from None
        except KieCallbackRejected as exc:
            metrics.inc("trt_callbacks_total", outcome="malformed")
            raise web.HTTPBadRequest(text=exc.message) from None
        metrics.inc("trt_callbacks_total", outcome="accepted")
        # recordInfo decides, not the body: settle after answering (KIE waits 15 s at most).
        # The body's consumeCredits goes along: it is the only place KIE states the cost.
        if not self.settlements.offer(callback):
            metrics.inc("trt_callbacks_total", outcome="deferred_to_polling")
        return web.json_response({"ok": True})

    def _rejected(self, event: str, reason: str, request: web.Request) -> None:
        self.rejections.log(event, reason=reason, remote=request.remote)
        self.refusals.handler_logged(request)  # its one line: the edge adds none


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


async def _json_body(request: web.Request, limit: int) -> dict[str, Any]:
    body = await read_body(request, limit)
    try:
        return read_json_object(body)
    except BadBody as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
