"""Wiring: the only module that names concrete adapters. Every entry point opens one.

`open_runtime` gives the store alone (fast: what `trt jobs list` needs); `open_services`
adds the registry, the KIE client (or an in-process KIE emulator), the Telegram bot and the
generation pipeline, for the server and the support commands that act on jobs.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from trt.settings import KieMode, Settings

if TYPE_CHECKING:
    from trt.bot.client import Bot
    from trt.catalog.registry import Registry
    from trt.core.generation import Generation
    from trt.core.metrics import Metrics
    from trt.kie.base import KieApi
    from trt.store.sql import SqlStore

logger = logging.getLogger(__name__)

DEFAULT_KIE_BASE_URL = "https://api.kie.ai"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    store: SqlStore


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the pipeline needs, complete; `bot` is None without a Telegram token."""

    runtime: Runtime
    registry: Registry
    kie: KieApi
    generation: Generation
    metrics: Metrics
    bot: Bot | None
    kie_emulated: bool
    callback_token: str | None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def store(self) -> SqlStore:
        return self.runtime.store


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, check_schema: bool = True) -> AsyncIterator[Runtime]:
    """Connect the store. Raises: DatabaseUnavailable, SchemaNotMigrated."""
    from trt.store.sql import open_store  # sqlalchemy costs ~0.5 s; keep it off `trt --help`

    async with open_store(settings.database_url, check_schema=check_schema) as store:
        yield Runtime(settings=settings, store=store)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, *, local_base_url: str | None = None
) -> AsyncIterator[Services]:
    """The whole pipeline. `local_base_url` is this process's own HTTP address, where an
    in-process KIE emulator sends its callbacks when no public URL is configured.

    Raises: ConfigError, DatabaseUnavailable, SchemaNotMigrated.
    """
    from trt.catalog.paths import resolve_registry_dir
    from trt.catalog.registry import Registry
    from trt.core.metrics import Metrics

    registry = Registry.load(resolve_registry_dir())
    async with contextlib.AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(open_runtime(settings))
        kie, emulated = await _kie(settings, stack)
        token = _callback_token(settings, emulated)
        callback_url = settings.public_callback_url or _local_callback(
            settings, local_base_url, token, emulated
        )
        bot = await _bot(settings, runtime.store, stack)
        metrics = Metrics()
        generation = _generation(
            runtime, registry=registry, kie=kie, bot=bot, metrics=metrics,
            callback_url=callback_url, emulated=emulated,
        )  # fmt: skip
        yield Services(runtime, registry, kie, generation, metrics, bot, emulated, token)


async def _kie(settings: Settings, stack: contextlib.AsyncExitStack) -> tuple[KieApi, bool]:
    from trt.kie.client import KieClient

    emulated = settings.kie_mode is KieMode.EMULATOR
    base_url, upload_url = settings.kie_base_url, settings.kie_upload_base_url
    if emulated and base_url == DEFAULT_KIE_BASE_URL:
        # Emulator mode must never reach the real KIE: run one in this process.
        from trt.sandbox.kie.emulator import run_emulator

        hmac = settings.kie_webhook_hmac_key
        emulator = await stack.enter_async_context(
            run_emulator(hmac_key=hmac.get_secret_value() if hmac else None, rate_limit=None)
        )
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
    from trt.core.generation import Generation
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
    return Generation(
        store=runtime.store, kie=kie, registry=registry, pricing=Pricing.from_settings(settings),
        messenger=messenger, metrics=metrics, callback_url=callback_url,
        max_active_jobs=settings.max_active_jobs,
        kie_reads=RateLimiter(settings.kie_queries_per_second),
        free_daily=settings.free_daily_generations,
        late_callback=timedelta(seconds=settings.kie_late_callback_seconds),
        delivery_lease=timedelta(seconds=settings.delivery_lease_seconds),
    )  # fmt: skip
