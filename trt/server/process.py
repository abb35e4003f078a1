"""`trt serve`: one process hosting the HTTP server, the bot, and (on the leader) the
reconciler and Telegram polling; stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from datetime import timedelta

from trt.bot.commands import publish_commands
from trt.bot.dispatcher import build_dispatcher
from trt.bot.updates import UpdateProcessor
from trt.bot.webhook import register_webhook
from trt.core.reconciler import Reconciler
from trt.core.services import Services
from trt.runtime import Serving, leader_lock, open_serving
from trt.server.app import WEBHOOK_PREFIX, TrtServer
from trt.server.edge import GuardedRunner, listen
from trt.settings import BotMode, Settings

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
PRUNE_EVERY_SECONDS = 600.0


async def serve(
    settings: Settings,
    *,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT, or until `stop` is set when the caller passes one."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    local = f"http://127.0.0.1:{settings.port}"
    async with open_serving(settings, local_base_url=local) as serving:
        await _run(serving, host=host, stop=stop, ready=ready)
    logger.info("stopped")


async def _run(
    serving: Serving, *, host: str, stop: asyncio.Event, ready: asyncio.Event | None
) -> None:
    services, bot = serving.services, serving.bot
    settings = services.settings
    dp = build_dispatcher(services) if bot else None
    updates = None
    if bot and dp:
        lease = timedelta(seconds=settings.inbox_lease_seconds)
        inbox, metrics = services.store.inbox, services.metrics
        updates = UpdateProcessor(bot, dp, inbox, metrics, lease=lease)
    leader = _LeaderWork(updates, polling=settings.bot_mode is BotMode.POLLING)
    reconciler = Reconciler(
        services.generation, leader_lock(services), on_leadership=leader.switch,
        interval=settings.reconcile_interval_seconds,
    )  # fmt: skip
    server = TrtServer(services, updates, is_leader=lambda: reconciler.is_leader)
    server.settlements.start()
    if updates:
        updates.start()
    runner = GuardedRunner(
        server.build_app(), shutdown_timeout=DRAIN_SECONDS,
        idle_seconds=settings.http_idle_seconds, max_connections=settings.http_max_connections,
    )  # fmt: skip
    await runner.setup()
    await listen(runner, host, settings.port)
    _log_start(services, bot_on=bot is not None)
    if bot is not None:
        await publish_commands(bot, settings.all_admin_ids)
    if updates and dp and settings.bot_mode is BotMode.WEBHOOK and bot:
        await register_webhook(
            bot, dp, url=f"{settings.webhook_base_url}/{WEBHOOK_PREFIX}/"
            f"{_value(settings.webhook_secret_path)}",
            secret_token=_value(settings.webhook_secret_token),
        )  # fmt: skip
    reconciling = asyncio.create_task(reconciler.run(stop))
    _settle_heap()
    if ready is not None:
        ready.set()
    await stop.wait()
    logger.info("stopping: no new requests, finishing what is in flight")
    await runner.shutdown()  # stops accepting; waits for in-flight requests
    await leader.switch(False)
    if updates:
        await updates.drain(DRAIN_SECONDS)
    await server.settlements.drain(DRAIN_SECONDS)
    await reconciling  # releases the leader lock
    await runner.cleanup()
    gc.unfreeze()  # an in-process server (tests, the sandbox) leaves the heap as it was


def _settle_heap() -> None:
    """Move what start-up built (registry, models, routes: ~250k objects) out of the
    garbage collector's sight, so a full collection while serving scans only what
    requests allocate: it took up to 125 ms over the start-up heap, a stall every
    handler waiting at that moment would share."""
    gc.collect()
    gc.freeze()


class _LeaderWork:
    """What only the leader does besides reconciling: poll Telegram, prune the inbox."""

    def __init__(self, updates: UpdateProcessor | None, *, polling: bool) -> None:
        self.updates = updates
        self.polling = polling
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def switch(self, leader: bool) -> None:
        if leader and not self._tasks and self.updates:
            self._stop = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._maintain(self.updates)))
            if self.polling:
                self._tasks.append(asyncio.create_task(self.updates.poll(self._stop)))
        elif not leader and self._tasks:
            self._stop.set()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []

    async def _maintain(self, updates: UpdateProcessor) -> None:
        while not self._stop.is_set():
            try:
                await updates.prune()
            except Exception:  # keep the leader's housekeeping alive through a bad moment
                logger.exception("inbox maintenance failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=PRUNE_EVERY_SECONDS)


def _log_start(services: Services, *, bot_on: bool) -> None:
    s = services.settings
    logger.info(
        "trt serving on port %d: storage %s, KIE %s, bot %s",
        s.port,
        s.storage_kind,
        "emulator" if services.kie_emulated else "real",
        s.bot_mode.value if bot_on else "off",
    )
    if services.generation.callback_url is None:
        logger.info("no public callback URL: KIE tasks are settled by polling")


def _value(secret: object) -> str:
    return secret.get_secret_value() if secret is not None else ""  # type: ignore[attr-defined]
