"""The bot wired to fakes: the Telegram emulator over loopback, FakeKie, in-memory SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from aiogram import Bot

from tests.bot.driver import Driver
from trt.bot.client import make_bot
from trt.bot.dispatcher import build_dispatcher
from trt.bot.flood import watch_blocked
from trt.bot.messenger import TelegramMessenger
from trt.catalog.paths import default_registry_dir
from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.core.generation import Generation
from trt.core.metrics import Metrics
from trt.core.schedule import RateLimiter
from trt.core.services import Services
from trt.domain import LedgerKind, TgUserId
from trt.sandbox.kie.fake import FakeKie
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import KieMode, Settings
from trt.store.engine import create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata

USER = TgUserId(7001)
ADMIN = 9001


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load(default_registry_dir())


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    async with run_telegram_emulator(flood_limits=False) as emu:
        yield emu


@pytest.fixture
async def store() -> AsyncIterator[SqlStore]:
    db = create_database("sqlite+aiosqlite://")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield SqlStore(db)
    await db.dispose()


@pytest.fixture
async def bot(tg: TelegramEmulator) -> AsyncIterator[Bot]:
    client = make_bot(tg.token, api_base_url=tg.base_url)
    yield client
    await client.session.close()


@pytest.fixture
def kie() -> FakeKie:
    return FakeKie()


def make_services(
    store: SqlStore, registry: Registry, kie: FakeKie, bot: Bot, **settings: Any
) -> Services:
    config = Settings(_env_file=None, admin_id=ADMIN, **settings)

    async def language(user_id: int) -> str | None:
        return (await store.users.get(TgUserId(user_id))).language

    messenger = TelegramMessenger(
        bot, registry=registry, admin_ids=config.all_admin_ids, languages=language,
        emulator=config.kie_mode is KieMode.EMULATOR,
    )  # fmt: skip
    generation = Generation(
        store=store, kie=kie, registry=registry,
        pricing=Pricing(Decimal("0.005"), Decimal("0.013"), Decimal("1.5")),
        messenger=messenger, metrics=Metrics(), callback_url="https://bot.example/cb/tok",
        max_active_jobs=3, kie_reads=RateLimiter(100, sleep=_no_sleep),
        free_daily=config.free_daily_generations,
    )  # fmt: skip
    watch_blocked(bot, store.users)  # as runtime does for every bot it builds
    return Services(config, store, registry, kie, generation, Metrics(), False, None)


DriverFactory = Callable[..., Driver]


@pytest.fixture
def make_driver(
    tg: TelegramEmulator, bot: Bot, store: SqlStore, registry: Registry, kie: FakeKie
) -> DriverFactory:
    """A driver for a user (`language_code` as Telegram sends it), with fresh services."""

    def factory(user_id: int = USER, language_code: str = "en", **settings: Any) -> Driver:
        tg.user(user_id, language_code=language_code, first_name="Ann")
        services = make_services(store, registry, kie, bot, **settings)
        return Driver(tg, bot, build_dispatcher(services), services, user_id)

    return factory


@pytest.fixture
async def en(make_driver: DriverFactory, store: SqlStore) -> Driver:
    """An English-speaking user with 100 ⭐."""
    await fund(store, USER, 100)
    return make_driver(USER, "en")


@pytest.fixture
async def ru(make_driver: DriverFactory, store: SqlStore) -> Driver:
    """A Russian-speaking user with 100 ⭐."""
    await fund(store, USER, 100, language="ru")
    return make_driver(USER, "ru")


async def fund(store: SqlStore, user_id: int, amount: int, language: str = "en") -> None:
    await store.users.ensure(TgUserId(user_id), language=language, first_name="Ann")
    await store.ledger.credit(
        TgUserId(user_id), amount, kind=LedgerKind.TOPUP, key=f"topup:{user_id}", reason="test"
    )
