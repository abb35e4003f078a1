"""`trt verify`: the readiness gate for CI and before a deploy. Each check says PASS, FAIL or
SKIP with a one-line reason; none of them changes anything. An edge module like serve.py:
it builds the server app and the bot dispatcher to prove they assemble."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from trt.errors import TrtError
from trt.settings import BotMode, Purpose, Settings

if TYPE_CHECKING:
    from trt.core.services import Services


class Outcome(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    outcome: Outcome
    reason: str


REQUIRED_ROUTES = frozenset({"/health", "/ready", "/metrics", "/webhook/{secret}"})


async def verify(settings: Settings, *, online: bool) -> list[Check]:
    """Run every check; later checks that need an earlier one's result SKIP when it failed."""
    checks = [_settings(settings), _registry(), _secrets(settings)]
    database = await _guard("database", _database, settings)
    checks += [database, _models()]
    if database.outcome is not Outcome.PASS:
        skipped = ["ledger", "server app", "bot dispatcher"] + (
            ["KIE account", "Telegram"] if online else []
        )
        return checks + [Check(n, Outcome.SKIP, "needs the database") for n in skipped]
    async with _services(settings) as services:
        checks += [await _ledger(services), _server_app(services), _dispatcher(services)]
        if online:
            checks.append(await _guard("KIE account", _kie_online, services))
            checks.append(await _guard("Telegram", _telegram_online, services))
    return checks


async def _guard(name: str, check: Callable[..., Awaitable[str]], *args: object) -> Check:
    try:
        return Check(name, Outcome.PASS, await check(*args))
    except TrtError as exc:
        return Check(name, Outcome.FAIL, exc.message.splitlines()[0])
    except _Skip as exc:
        return Check(name, Outcome.SKIP, str(exc))


class _Skip(Exception):
    pass


def _settings(settings: Settings) -> Check:
    problems = settings.problems_for(Purpose.SERVE)
    mode = f"{settings.bot_mode.value} mode, KIE {settings.kie_mode.value}"
    if problems:
        return Check("settings", Outcome.FAIL, f"{mode}: " + "; ".join(problems))
    return Check("settings", Outcome.PASS, f"complete for {mode}")


def _registry() -> Check:
    from trt.catalog.build import validate_registry
    from trt.catalog.paths import resolve_registry_dir

    problems = validate_registry(resolve_registry_dir())
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("registry", Outcome.FAIL, problems[0] + more)
    return Check("registry", Outcome.PASS, "built, valid and up to date with its sources")


def _secrets(settings: Settings) -> Check:
    dump = settings.model_dump_json() + repr(settings) + str(settings)
    leaked = [s for s in settings.secret_values() if s in dump]
    if leaked:
        return Check("secrets", Outcome.FAIL, f"{len(leaked)} secret(s) visible in the dump")
    return Check("secrets", Outcome.PASS, "no secret in the settings dump")


async def _database(settings: Settings) -> str:
    from trt.runtime import database_revision, open_store

    url = settings.database_url.get_secret_value()
    async with open_store(url):  # refuses an unmigrated schema
        location, revision, _ = await database_revision(url)
    return f"{settings.storage_kind} at {location}, schema {revision}"


def _models() -> Check:
    from trt.catalog.examples import sample_params
    from trt.catalog.paths import resolve_registry_dir
    from trt.catalog.pricing import credits_for
    from trt.catalog.registry import Registry

    try:
        registry = Registry.load(resolve_registry_dir())
    except TrtError as exc:
        return Check("models price", Outcome.FAIL, exc.message.splitlines()[0])
    failing = []
    for spec in registry.visible():
        try:
            credits_for(spec, sample_params(spec))
        except TrtError as exc:
            failing.append(f"{spec.id}: {exc.message.splitlines()[0]}")
    if failing:
        return Check("models price", Outcome.FAIL, "; ".join(failing[:3]))
    return Check("models price", Outcome.PASS, f"{len(registry.visible())} visible models price")


async def _ledger(services: Services) -> Check:
    """DESIGN.md's money invariant: every user's balance and held are what their ledger
    rows add up to, and neither is negative."""
    broken = await services.store.ledger.invariant_violations()
    if broken:
        more = f" (+{len(broken) - 3} more)" if len(broken) > 3 else ""
        return Check("ledger", Outcome.FAIL, "; ".join(broken[:3]) + more)
    return Check("ledger", Outcome.PASS, "every balance and hold matches the ledger")


@contextlib.asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[Services]:
    from trt.runtime import open_services

    async with open_services(settings) as services:
        yield services


def _server_app(services: Services) -> Check:
    from trt.server.app import TrtServer

    app = TrtServer(services, None).build_app()
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    missing = REQUIRED_ROUTES - routes
    if missing:
        return Check("server app", Outcome.FAIL, f"missing routes: {sorted(missing)}")
    return Check("server app", Outcome.PASS, f"{len(routes)} routes")


def _dispatcher(services: Services) -> Check:
    from trt.bot.dispatcher import build_dispatcher

    dp = build_dispatcher(services)
    used = dp.resolve_used_update_types()
    if "message" not in used:
        return Check("bot dispatcher", Outcome.FAIL, "no router handles messages")
    return Check(
        "bot dispatcher", Outcome.PASS, f"{len(dp.sub_routers)} routers; {', '.join(used)}"
    )


async def _kie_online(services: Services) -> str:
    credits = await services.kie.credits()
    return f"key accepted; {credits} credits left"


async def _telegram_online(services: Services) -> str:
    if services.telegram is None:
        raise _Skip("no TELEGRAM_BOT_TOKEN")
    return await services.telegram.describe(expected_webhook=_webhook_url(services.settings))


def _webhook_url(settings: Settings) -> str | None:
    if settings.bot_mode is not BotMode.WEBHOOK or settings.webhook_secret_path is None:
        return None
    return f"{settings.webhook_base_url}/webhook/{settings.webhook_secret_path.get_secret_value()}"
