"""The start-up summary: one block that tells an operator what this `trt serve` runs on,
with every secret masked, and the loud warnings about set-ups that lose data or money."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from trt import __version__
from trt.core.reconciler import Reconciler
from trt.core.services import Services
from trt.logs import log_event
from trt.settings import BotMode, Settings

logger = logging.getLogger(__name__)

MASK = "***"
LEADERSHIP_WAIT = 5.0  # seconds; the summary says "undecided" rather than wait longer


@dataclass(frozen=True, slots=True)
class Summary:
    version: str
    bot_mode: str
    port: int
    storage: str
    storage_at: str
    webhook_url: str | None
    callback_url: str | None
    kie_mode: str
    kie_api: str
    admins: int
    role: str
    warnings: tuple[str, ...]

    def lines(self) -> list[str]:
        rows = [
            ("bot mode", self.bot_mode),
            ("port", str(self.port)),
            ("storage", f"{self.storage} at {self.storage_at}"),
            ("webhook", self.webhook_url or "none (not in webhook mode)"),
            ("KIE callback", self.callback_url or "none: KIE tasks are settled by polling"),
            ("KIE", f"{self.kie_mode} ({self.kie_api})"),
            ("admins", str(self.admins)),
            ("role", self.role),
        ]
        body = [f"trt {self.version} serving"] + [f"  {k:<13}{v}" for k, v in rows]
        return body + [f"  WARNING: {w}" for w in self.warnings]


def summarise(
    settings: Settings, *, bot_on: bool, kie_emulated: bool, callback_url: str | None, role: str
) -> Summary:
    """What this process serves, secrets masked: the webhook's secret path and the callback
    token become ***, the database shows host, port and name only."""
    webhook = None
    if bot_on and settings.bot_mode is BotMode.WEBHOOK:
        webhook = f"{settings.webhook_base_url}/webhook/{MASK}"
    return Summary(
        version=__version__,
        bot_mode=settings.bot_mode.value if bot_on else "off (no TELEGRAM_BOT_TOKEN)",
        port=settings.port,
        storage=settings.storage_kind,
        storage_at=settings.database_location,
        webhook_url=webhook,
        callback_url=mask_last_segment(callback_url) if callback_url else None,
        kie_mode="emulator" if kie_emulated else "real",
        kie_api=settings.kie_base_url,
        admins=len(settings.all_admin_ids),
        role=role,
        warnings=tuple(warnings_for(settings, kie_emulated=kie_emulated)),
    )


def warnings_for(settings: Settings, *, kie_emulated: bool) -> list[str]:
    """Set-ups that run but will hurt: each one a sentence saying what to change."""
    found = []
    if settings.render and settings.storage_kind == "sqlite":
        found.append(
            "SQLite on Render: the service's disk is wiped on every deploy and restart, "
            "taking balances, payments and jobs with it. Set DATABASE_URL to a Postgres "
            "database (render.yaml wires one)."
        )
    if kie_emulated and settings.bot_mode is BotMode.WEBHOOK:
        found.append(
            "KIE emulator in webhook mode: users are served sample results, not real "
            "generations. Unset KIE_MODE/DRY_RUN for production."
        )
    return found


def mask_last_segment(url: str) -> str:
    """`https://host/callbacks/kie/TOKEN` → `https://host/callbacks/kie/***`."""
    return f"{url.rsplit('/', 1)[0]}/{MASK}"


async def log_summary(services: Services, *, bot_on: bool, reconciler: Reconciler) -> None:
    """Log the summary once the reconciler's first try for the leader lock has answered
    (within LEADERSHIP_WAIT), then each warning on a WARNING line of its own."""
    try:
        async with asyncio.timeout(LEADERSHIP_WAIT):
            await reconciler.decided.wait()
        role = "leader" if reconciler.is_leader else "follower"
    except TimeoutError:
        role = "undecided (the leader lock has not answered yet)"
    summary = summarise(
        services.settings, bot_on=bot_on, kie_emulated=services.kie_emulated,
        callback_url=services.generation.callback_url, role=role,
    )  # fmt: skip
    fields = dataclasses.asdict(summary)
    logger.info("%s", "\n".join(summary.lines()), extra={"event": "startup", **fields})
    for warning in summary.warnings:
        log_event(logger, "startup_warning", level=logging.WARNING, reason=warning)
