"""Wiring: the only module that builds concrete adapters. Only entry points import it (the
CLI commands, the serve process, the sandbox runner, `trt verify`).

`open_runtime` gives the store alone (fast: what `trt jobs list` needs); `open_services`
adds the registry, the KIE client (or an in-process KIE emulator), the Telegram bot's
ports and the generation pipeline, as core's `Services`; `open_serving` also hands the
serve process the aiogram bot itself.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from trt.settings import KieMode, Settings

if TYPE_CHECKING:
    from trt.bot.client import Bot
    from trt.catalog.registry import Registry
    from trt.core.broadcaster import Broadcaster
    from trt.core.generation import Generation
    from trt.core.metrics import Metrics
    from trt.core.ports import KieApi, LeaderLock, StarPayments, TelegramAccount
    from trt.core.services import Services
    from trt.store.backup import Backup
    from trt.store.engine import Database
    from trt.store.sql import SqlStore

logger = logging.getLogger(__name__)

DEFAULT_KIE_BASE_URL = "https://api.kie.ai"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    store: SqlStore


@dataclass(frozen=True, slots=True)
class Serving:
    """What the serve process runs on: core's services and the bot (None without a token)."""

    services: Services
    bot: Bot | None


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, check_schema: bool = True) -> AsyncIterator[Runtime]:
    """Connect the store. Raises: DatabaseUnavailable, SchemaNotMigrated."""
    from trt.store.sql import open_store  # sqlalchemy costs ~0.5 s; keep it off `trt --help`

    async with open_store(
        settings.database_url.get_secret_value(), check_schema=check_schema
    ) as store:
        yield Runtime(settings=settings, store=store)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, *, local_base_url: str | None = None
) -> AsyncIterator[Services]:
    """The whole pipeline. `local_base_url` is this process's own HTTP address, where an
    in-process KIE emulator sends its callbacks when no public URL is configured.

    Raises: ConfigError, DatabaseUnavailable, SchemaNotMigrated.
    """
    async with open_serving(settings, local_base_url=local_base_url) as serving:
        yield serving.services


@contextlib.asynccontextmanager
async def open_serving(
    settings: Settings, *, local_base_url: str | None = None
) -> AsyncIterator[Serving]:
    """`open_services`, with the aiogram bot for the serve process and the sandbox."""
    from trt.catalog.paths import resolve_registry_dir
    from trt.catalog.registry import Registry
    from trt.core.metrics import Metrics
    from trt.core.services import Services
    from trt.core.timed_kie import TimedKie

    registry = Registry.load(resolve_registry_dir())
    async with contextlib.AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(open_runtime(settings))
        metrics = Metrics()
        untimed, emulated = await _kie(settings, stack, registry)
        kie = TimedKie(untimed, metrics)
        token = _callback_token(settings, emulated)
        callback_url = settings.public_callback_url or _local_callback(
            settings, local_base_url, token, emulated
        )
        bot = await _bot(settings, runtime.store, stack)
        generation = _generation(
            runtime, registry=registry, kie=kie, bot=bot, metrics=metrics,
            callback_url=callback_url, emulated=emulated,
        )  # fmt: skip
        await generation.controls.refresh()  # the first update already sees them
        stars, account = _bot_ports(bot)
        services = Services(
            settings, runtime.store, registry, kie, generation, metrics, emulated, token,
            stars=stars, telegram=account,
        )  # fmt: skip
        yield Serving(services, bot)


@contextlib.asynccontextmanager
async def open_kie(settings: Settings) -> AsyncIterator[KieApi]:
    """A client of the configured KIE (its key, its base URLs)."""
    from trt.kie.client import KieClient

    key = settings.kie_api_key
    client = KieClient.connect(
        api_key=key.get_secret_value() if key else "",
        base_url=settings.kie_base_url,
        upload_base_url=settings.kie_upload_base_url,
    )
    async with contextlib.aclosing(client):
        yield client


@contextlib.asynccontextmanager
async def open_emulated_kie(task_seconds: float | None = None) -> AsyncIterator[KieApi]:
    """A client of a KIE emulator run in this process for as long as the block lasts;
    its tasks take `task_seconds` (the emulator's default when None)."""
    from trt.kie.client import KieClient
    from trt.sandbox.kie.emulation import Schedule
    from trt.sandbox.kie.emulator import EmulatorOptions, run_emulator

    options = EmulatorOptions()
    if task_seconds is not None:
        d = task_seconds
        options = EmulatorOptions(schedule=Schedule(d * 0.15, d * 0.3, d))
    async with run_emulator(port=0, options=options) as emu:
        client = KieClient.connect(
            api_key="emulator", base_url=emu.base_url, upload_base_url=emu.base_url
        )
        async with contextlib.aclosing(client):
            yield client


def leader_lock(services: Services) -> LeaderLock:
    """The leader lock for the services' database (an advisory lock, or a file lock)."""
    from trt.store.leader import leader_lock as lock_for
    from trt.store.sql import SqlStore

    assert isinstance(services.store, SqlStore)  # the only store runtime builds
    return lock_for(services.store.db)


async def leader_running(runtime: Runtime) -> bool:
    """Whether a `trt serve` leader (which sends broadcasts) holds the database's leader
    lock now. Probing takes the lock for an instant when it is free: a server starting at
    that moment takes it on its next reconciler turn."""
    from trt.store.leader import leader_lock as lock_for

    lock = lock_for(runtime.store.db)
    if not await lock.try_acquire():
        return True
    await lock.release()
    return False


def make_broadcaster(serving: Serving) -> Broadcaster | None:
    """The leader's broadcast sender, on the bot's paced session (None without a bot)."""
    if serving.bot is None:
        return None
    from trt.bot.announcer import TelegramAnnouncer
    from trt.core.broadcaster import Broadcaster
    from trt.domain import TgUserId

    services = serving.services
    users = services.store.users

    async def language(user_id: int) -> str | None:
        return (await users.get(TgUserId(user_id))).language

    announcer = TelegramAnnouncer(
        serving.bot, admin_ids=services.settings.all_admin_ids, languages=language
    )
    return Broadcaster(
        services.store.broadcasts, announcer, per_second=services.settings.broadcast_per_second
    )


@contextlib.asynccontextmanager
async def open_store(database_url: str) -> AsyncIterator[SqlStore]:
    """The store at `database_url`, its schema checked. Raises: SchemaNotMigrated."""
    from trt.store.sql import open_store as connect

    async with connect(database_url) as store:
        yield store


async def upgrade_database(database_url: str) -> tuple[str, str | None]:
    """Apply every pending migration; where the database is, and its revision now."""
    from trt.store import schema

    async with _database(database_url, must_exist=False) as db:
        await schema.upgrade(db)
        return db.location, await schema.current_revision(db)


def backup_database(database_url: str, target: Path, *, force: bool) -> Backup:
    """A consistent copy of the database in `target`; needs no current schema (a backup
    before `trt db upgrade` is the point). Raises: UsageError, DatabaseMissing, BackupFailed."""
    from trt.store.backup import backup

    return backup(database_url, target, force=force)


async def database_revision(database_url: str) -> tuple[str, str | None, str]:
    """Where the database is, the revision it is at, and the one this version needs."""
    from trt.store import schema

    async with _database(database_url, must_exist=True) as db:
        return db.location, await schema.current_revision(db), schema.SCHEMA_HEAD


@contextlib.asynccontextmanager
async def _database(database_url: str, *, must_exist: bool) -> AsyncIterator[Database]:
    from trt.store.engine import create_database

    db = create_database(database_url, must_exist=must_exist)
    try:
        yield db
    finally:
        await db.dispose()


def _bot_ports(bot: Bot | None) -> tuple[StarPayments | None, TelegramAccount | None]:
    if bot is None:
        return None, None
    from trt.bot.stars import TelegramStars
    from trt.bot.webhook import BotAccount

    return TelegramStars(bot), BotAccount(bot)


async def _kie(
    settings: Settings, stack: contextlib.AsyncExitStack, registry: Registry
) -> tuple[KieApi, bool]:
    from trt.kie.client import KieClient

    emulated = settings.kie_mode is KieMode.EMULATOR
    base_url, upload_url = settings.kie_base_url, settings.kie_upload_base_url
    if emulated and base_url == DEFAULT_KIE_BASE_URL:
        # Emulator mode must never reach the real KIE: run one in this process.
        from trt.sandbox.kie.emulator import run_emulator
        from trt.sandbox.kie.pricing import registry_pricer

        hmac = settings.kie_webhook_hmac_key
        emulator = await stack.enter_async_context(
            run_emulator(
                hmac_key=hmac.get_secret_value() if hmac else None, rate_limit=None,
                price=registry_pricer(registry),  # KIE's consumeCredits = trt's quote
            )
        )  # fmt: skip
        base_url = upload_url = emulator.base_url
    key = settings.kie_api_key.get_secret_value() if settings.kie_api_key else "emulator"
    client = KieClient.connect(api_key=key, base_url=base_url, upload_base_url=upload_url)
    stack.push_async_callback(client.aclose)
    return client, emulated


def _callback_token(settings: Settings, emulated: bool) -> str | None:
    if settings.kie_callback_token is not None:
        return settings.kie_callback_token.get_secret_value()
    return secrets.token_urlsafe(24) if emulated else None


def _local_callback(
    settings: Settings, local_base_url: str | None, token: str | None, emulated: bool
) -> str | None:
    if not (emulated and local_base_url and token):
        return None
    return f"{local_base_url}/{settings.kie_callback_path.strip('/')}/{token}"


async def _bot(
    settings: Settings, store: SqlStore, stack: contextlib.AsyncExitStack
) -> Bot | None:
    if settings.telegram_bot_token is None:
        return None
    from trt.bot.client import make_bot  # aiogram takes seconds to import
    from trt.bot.flood import watch_blocked

    token = settings.telegram_bot_token.get_secret_value()
    bot = make_bot(token, api_base_url=settings.telegram_api_base_url)
    stack.push_async_callback(bot.session.close)
    # Every process that talks to Telegram (the server, `trt jobs retry-delivery`) marks
    # users who blocked the bot, not only those that build a dispatcher.
    watch_blocked(bot, store.users)
    return bot


def _generation(
    runtime: Runtime,
    *,
    registry: Registry,
    kie: KieApi,
    bot: Bot | None,
    metrics: Metrics,
    callback_url: str | None,
    emulated: bool,
) -> Generation:
    from trt.catalog.pricing import Pricing
    from trt.core.controls import Controls
    from trt.core.costguard import CostGuard, GuardPolicy
    from trt.core.generation import Generation, utcnow
    from trt.core.ports import Messenger, NullMessenger
    from trt.core.schedule import RateLimiter

    settings = runtime.settings
    messenger: Messenger = NullMessenger()
    if bot is not None:
        from trt.bot.alerts import FailureBurst
        from trt.bot.messenger import TelegramMessenger

        async def language(user_id: int) -> str | None:
            return (await runtime.store.users.get(user_id)).language  # type: ignore[arg-type]

        messenger = TelegramMessenger(
            bot, registry=registry, admin_ids=settings.all_admin_ids, languages=language,
            emulator=emulated,
            burst=FailureBurst(settings.failure_burst, settings.failure_burst_minutes),
        )  # fmt: skip
    # The cost guard's disable goes through the same controls the quotes obey.
    controls = Controls(runtime.store.controls, registry)
    guard = CostGuard(
        costs=runtime.store.costs, messenger=messenger, switch=controls,
        policy=GuardPolicy.from_settings(settings), clock=utcnow,
    )  # fmt: skip
    return Generation(
        store=runtime.store, kie=kie, registry=registry, pricing=Pricing.from_settings(settings),
        messenger=messenger, metrics=metrics, callback_url=callback_url, cost_guard=guard,
        controls=controls,
        max_active_jobs=settings.max_active_jobs,
        kie_reads=RateLimiter(settings.kie_queries_per_second),
        free_daily=settings.free_daily_generations,
        late_callback=timedelta(seconds=settings.kie_late_callback_seconds),
        delivery_lease=timedelta(seconds=settings.delivery_lease_seconds),
        orphan_grace=timedelta(seconds=settings.orphan_grace_seconds),
    )  # fmt: skip
