"""`trt serve`: one process hosting the HTTP server, the bot, and (on the leader) the
reconciler and Telegram polling; stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from datetime import timedelta

from aiogram import Bot, Dispatcher

from trt.bot.commands import publish_commands
from trt.bot.dispatcher import build_dispatcher
from trt.bot.middlewares import ReadAhead
from trt.bot.updates import UpdateProcessor
from trt.bot.webhook import register_webhook
from trt.core.broadcaster import Broadcaster
from trt.core.reconciler import Reconciler
from trt.core.supervisor import Supervisor
from trt.runtime import Serving, leader_lock, make_broadcaster, open_serving
from trt.server.app import WEBHOOK_PREFIX, TrtServer
from trt.server.edge import GuardedRunner, listen
from trt.server.summary import log_summary
from trt.settings import BotMode, Settings

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600.0
# Supervised tasks, as /health names them while they fail.
RECONCILER, PRUNING, POLLING = "reconciler", "inbox pruning", "telegram polling"
WEBHOOK, SETTLEMENT = "webhook", "callback settlement"
CONTROLS = "controls refresh"
BROADCASTS = "broadcasts"


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
    supervisor = Supervisor(backoff_cap=settings.retry_max_seconds)
    # `open_serving` read the controls once; from now on every few seconds.
    supervisor.every(
        CONTROLS, services.controls.refresh, interval=settings.controls_refresh_seconds
    )
    read_ahead = ReadAhead()
    dp = build_dispatcher(services, read_ahead) if bot else None
    updates = None
    if bot and dp:
        lease = timedelta(seconds=settings.inbox_lease_seconds)
        grace = timedelta(seconds=settings.inbox_recovery_grace_seconds)
        inbox, metrics = services.store.inbox, services.metrics
        updates = UpdateProcessor(
            bot, dp, inbox, metrics, lease=lease, grace=grace, supervisor=supervisor,
            read_ahead=read_ahead,
        )  # fmt: skip
    broadcaster = make_broadcaster(serving)
    leader = _LeaderWork(
        supervisor, updates, broadcaster, polling=settings.bot_mode is BotMode.POLLING
    )
    reconciler = Reconciler(
        services.generation, leader_lock(services), on_leadership=leader.switch,
        stuck_after=settings.leader_stuck_seconds,
    )  # fmt: skip
    server = TrtServer(
        services, updates, is_leader=lambda: reconciler.is_leader,
        failing=supervisor.failing, webhook_outage=supervisor.episode(WEBHOOK),
        settle_outage=supervisor.episode(SETTLEMENT),
    )  # fmt: skip
    server.settlements.start()
    if updates:
        updates.start()
    runner = GuardedRunner(
        server.build_app(), shutdown_timeout=settings.shutdown_drain_seconds,
        idle_seconds=settings.http_idle_seconds, max_connections=settings.http_max_connections,
    )  # fmt: skip
    await runner.setup()
    await listen(runner, host, settings.port)
    if bot is not None and dp is not None:
        _introduce_to_telegram(supervisor, bot, dp, settings)
    supervisor.every(RECONCILER, reconciler.step, interval=settings.reconcile_interval_seconds)
    await log_summary(services, bot_on=bot is not None, reconciler=reconciler)
    _settle_heap()
    if ready is not None:
        ready.set()
    await stop.wait()
    logger.info("stopping: no new requests, finishing what is in flight")
    await runner.shutdown()  # stops accepting; waits for in-flight requests
    await supervisor.cancel(RECONCILER)
    if broadcaster is not None:  # the messages in flight finish: none is left unknown
        await broadcaster.drain(settings.shutdown_drain_seconds)
    await leader.switch(False)
    if updates:
        await updates.drain(settings.shutdown_drain_seconds)
    await server.settlements.drain(settings.shutdown_drain_seconds)
    await reconciler.step_down("shutting down")
    await supervisor.stop()
    await runner.cleanup()
    gc.unfreeze()  # an in-process server (tests, the sandbox) leaves the heap as it was


def _introduce_to_telegram(
    supervisor: Supervisor, bot: Bot, dp: Dispatcher, settings: Settings
) -> None:
    """The command lists and (in webhook mode) setWebhook, retried in the background until
    Telegram takes them: serving never waits on Telegram being reachable."""
    admins = settings.all_admin_ids
    supervisor.until_done(
        "telegram command lists", lambda: publish_commands(bot, admins), every_attempt=True
    )
    if settings.bot_mode is BotMode.WEBHOOK:
        path = _value(settings.webhook_secret_path)
        url = f"{settings.webhook_base_url}/{WEBHOOK_PREFIX}/{path}"
        secret = _value(settings.webhook_secret_token)
        supervisor.until_done(
            "telegram setWebhook",
            lambda: register_webhook(bot, dp, url=url, secret_token=secret),
            every_attempt=True,
        )


def _settle_heap() -> None:
    """Move what start-up built (registry, models, routes: ~250k objects) out of the
    garbage collector's sight, so a full collection while serving scans only what
    requests allocate: it took up to 125 ms over the start-up heap, a stall every
    handler waiting at that moment would share."""
    gc.collect()
    gc.freeze()


class _LeaderWork:
    """What only the leader does besides reconciling: poll Telegram, prune the inbox, send
    broadcasts."""

    def __init__(
        self,
        supervisor: Supervisor,
        updates: UpdateProcessor | None,
        broadcaster: Broadcaster | None,
        *,
        polling: bool,
    ) -> None:
        self.supervisor = supervisor
        self.updates = updates
        self.broadcaster = broadcaster
        self.polling = polling

    async def switch(self, leader: bool) -> None:
        updates = self.updates
        if updates is None:
            return
        if leader:
            self.supervisor.every(PRUNING, updates.prune, interval=PRUNE_EVERY_SECONDS)
            if self.broadcaster is not None:
                self.supervisor.keep_running(BROADCASTS, self.broadcaster.run)
            if self.polling:
                # Polling stops by cancellation when leadership goes: it never ends alone.
                self.supervisor.keep_running(POLLING, lambda: updates.poll(asyncio.Event()))
        else:
            await self.supervisor.cancel(BROADCASTS)
            await self.supervisor.cancel(POLLING)
            await self.supervisor.cancel(PRUNING)


def _value(secret: object) -> str:
    return secret.get_secret_value() if secret is not None else ""  # type: ignore[attr-defined]
