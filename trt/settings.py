"""Configuration from the environment (and `.env`), loaded by `load_settings()` only.

Variable names keep compatibility with deployments of the bot trt replaces, so there is
no prefix. Nothing here reads the environment at import time.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from trt.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/trt.db"
WEBHOOK_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's setWebhook secret_token
WEBHOOK_PATH = re.compile(r"[A-Za-z0-9._~-]{1,256}")  # unreserved URL characters


class BotMode(StrEnum):
    WEBHOOK = "webhook"
    POLLING = "polling"


class KieMode(StrEnum):
    REAL = "real"
    EMULATOR = "emulator"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Purpose(StrEnum):
    """What a command is about to do; each needs a different set of variables."""

    KIE = "kie"
    SERVE = "serve"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    telegram_bot_token: SecretStr | None = None
    kie_api_key: SecretStr | None = None
    admin_id: int | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    bot_mode: BotMode = BotMode.POLLING
    webhook_base_url: str | None = None
    webhook_secret_path: SecretStr | None = None
    webhook_secret_token: SecretStr | None = None
    kie_callback_path: str = "callbacks/kie"
    kie_callback_token: SecretStr | None = None
    kie_webhook_hmac_key: SecretStr | None = None
    kie_base_url: str = "https://api.kie.ai"
    kie_upload_base_url: str = "https://kieai.redpandaai.co"
    kie_mode: KieMode = KieMode.REAL
    dry_run: bool = False
    telegram_api_base_url: str = "https://api.telegram.org"
    # A secret: a Postgres URL holds the password. Print `database_location` instead.
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    port: int = Field(default=8080, ge=1, le=65535)
    log_format: LogFormat = LogFormat.TEXT
    # GET /metrics wants `Authorization: Bearer <this>`; unset, only loopback may scrape.
    metrics_token: SecretStr | None = None
    # The HTTP server's bounds against slow and idle clients (see trt/server/edge.py).
    http_idle_seconds: float = Field(default=15, gt=0, le=3600)
    http_max_connections: int = Field(default=200, ge=1, le=100_000)
    usd_per_credit: float = Field(default=0.005, gt=0)
    usd_per_star: float = Field(default=0.013, gt=0)
    price_markup: float = Field(default=1.5, gt=0)
    max_active_jobs: int = Field(default=3, ge=1)
    kie_queries_per_second: float = Field(default=10, gt=0)
    kie_late_callback_seconds: float = Field(default=120, gt=0)
    reconcile_interval_seconds: float = Field(default=1.0, gt=0)
    # How often each instance re-reads the operators' controls (disabled models, markups,
    # maintenance): a change made elsewhere applies here within this many seconds.
    controls_refresh_seconds: float = Field(default=3.0, gt=0, le=300)
    inbox_lease_seconds: float = Field(default=15, gt=0)
    delivery_lease_seconds: float = Field(default=120, gt=0)
    orphan_grace_seconds: float = Field(default=120, gt=0)
    retry_max_seconds: float = Field(default=3, gt=0)
    leader_stuck_seconds: float = Field(default=300, gt=0)
    inbox_recovery_grace_seconds: float = Field(default=3, gt=0)
    shutdown_drain_seconds: float = Field(default=10, ge=0)
    # The bot's free tier and alerts; every amount is in Stars.
    welcome_bonus: int = Field(default=0, ge=0)
    free_daily_generations: int = Field(default=1, ge=0)
    low_kie_credits_alert: float = Field(default=1000, ge=0)
    failure_burst: int = Field(default=5, ge=1)
    failure_burst_minutes: float = Field(default=10, gt=0)
    # Announcements go out at this many messages a second, beside the bot's own traffic
    # (Telegram allows about 30 per bot): the rest of the budget stays with live users.
    broadcast_per_second: float = Field(default=20, gt=0, le=28)
    # Telegram Stars top-ups: packages as `stars[:bonus%]`, a custom amount within limits.
    topup_packages: str = "50,100,250:5,500:10,1000:15"
    topup_min: int = Field(default=10, ge=1, le=10_000)
    topup_max: int = Field(default=10_000, ge=1, le=10_000)  # Telegram's ceiling per invoice
    # A referred user's first top-up gives both sides this percent of it, at most
    # REFERRAL_BONUS Stars each, and never more than the markup's margin pays for.
    referral_bonus: int = Field(default=10, ge=0)
    referral_bonus_percent: int = Field(default=10, ge=0, le=100)
    # The cost guard: over a model's last COST_GUARD_JOBS jobs KIE reported real credits
    # for, real cost above revenue or a real margin below COST_GUARD_MIN_MARGIN (a share of
    # revenue) alerts the admins once per episode, and disables the model if asked to.
    cost_guard_jobs: int = Field(default=10, ge=1, le=1000)
    cost_guard_min_margin: float = Field(default=0.1, ge=0, lt=1)
    cost_guard_auto_disable: bool = False
    paysupport_text: str | None = None
    terms_text: str | None = None
    # Signs invoice payloads; derived from the bot token when unset.
    payment_secret: SecretStr | None = None
    # Set by Render on its hosts: the public URL is the webhook's default base, and a host
    # whose disk does not persist makes SQLite a warning at start-up.
    render: bool = False
    render_external_url: str | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("topup_packages")
    @classmethod
    def _check_packages(cls, value: str) -> str:
        parse_packages(value)
        return value

    @field_validator("topup_max")
    @classmethod
    def _check_topup_limits(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("topup_min", 1):
            raise ValueError("must not be below TOPUP_MIN")
        return value

    @field_validator(
        "webhook_secret_path", "webhook_secret_token", "kie_callback_token", mode="before"
    )
    @classmethod
    def _url_safe_secret(cls, value: Any) -> Any:
        return url_safe(value) if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: SecretStr) -> SecretStr:
        return SecretStr(normalise_database_url(value.get_secret_value()))

    @field_validator(
        "webhook_base_url", "kie_base_url", "telegram_api_base_url", "render_external_url"
    )
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
            raise ValueError("must be an http(s) URL such as https://bot.example.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _dry_run_means_emulator(self) -> Settings:
        if self.dry_run:
            self.kie_mode = KieMode.EMULATOR
        return self

    @model_validator(mode="after")
    def _render_url_is_the_default_base(self) -> Settings:
        if self.webhook_base_url is None:
            self.webhook_base_url = self.render_external_url
        return self

    @property
    def packages(self) -> list[tuple[int, int]]:
        """Top-up packages as (stars, bonus percent)."""
        return parse_packages(self.topup_packages)

    @property
    def all_admin_ids(self) -> frozenset[int]:
        ids = set(self.admin_ids)
        if self.admin_id is not None:
            ids.add(self.admin_id)
        return frozenset(ids)

    @property
    def public_callback_url(self) -> str | None:
        """Where KIE posts completions, when a public base URL and a token are configured."""
        if not self.webhook_base_url or self.kie_callback_token is None:
            return None
        token = self.kie_callback_token.get_secret_value()
        return f"{self.webhook_base_url}/{self.kie_callback_path.strip('/')}/{token}"

    @property
    def storage_kind(self) -> str:
        url = self.database_url.get_secret_value()
        return "postgres" if url.startswith("postgresql") else "sqlite"

    @property
    def database_location(self) -> str:
        """Where the database is (host, port and name, or the SQLite path), for messages."""
        return describe_database(self.database_url.get_secret_value())

    def problems_for(self, purpose: Purpose) -> list[str]:
        """Every variable missing for `purpose`, by name; empty when ready."""
        required: list[tuple[str, object]] = []
        if purpose in (Purpose.KIE, Purpose.SERVE) and self.kie_mode is KieMode.REAL:
            required.append(("KIE_API_KEY", self.kie_api_key))
        if purpose is Purpose.SERVE:
            required += [
                ("TELEGRAM_BOT_TOKEN", self.telegram_bot_token),
                ("ADMIN_ID", self.all_admin_ids or None),
            ]
            if self.bot_mode is BotMode.WEBHOOK:
                required += [
                    ("WEBHOOK_BASE_URL", self.webhook_base_url),
                    ("WEBHOOK_SECRET_PATH", self.webhook_secret_path),
                    ("WEBHOOK_SECRET_TOKEN", self.webhook_secret_token),
                    ("KIE_CALLBACK_TOKEN", self.kie_callback_token),
                ]
        missing = [f"{name} is required for {purpose}" for name, v in required if not _present(v)]
        if purpose is Purpose.SERVE and self.bot_mode is BotMode.WEBHOOK:
            missing += self._webhook_problems()
        return missing

    def _webhook_problems(self) -> list[str]:
        """What Telegram's setWebhook would refuse later, said at start (values never shown)."""
        problems: list[str] = []
        base = urlsplit(self.webhook_base_url or "")
        if base.netloc and base.scheme != "https" and not _loopback(base.hostname):
            problems.append("WEBHOOK_BASE_URL must be https:// (Telegram calls only https)")
        token = self.webhook_secret_token
        if token is not None and not WEBHOOK_TOKEN.fullmatch(token.get_secret_value()):
            problems.append(
                "WEBHOOK_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's secret_token rule)"
            )
        path = self.webhook_secret_path
        if path is not None and not WEBHOOK_PATH.fullmatch(path.get_secret_value()):
            problems.append(
                "WEBHOOK_SECRET_PATH must be 1-256 characters of A-Z, a-z, 0-9, _, -, . and ~ "
                "(it is part of the URL)"
            )
        return problems

    def require(self, purpose: Purpose) -> None:
        """Raises: ConfigError listing every missing variable."""
        problems = self.problems_for(purpose)
        if problems:
            raise ConfigError(problems)

    def secret_values(self) -> list[str]:
        """The configured secrets, for log scanning and redaction."""
        secrets = [
            self.telegram_bot_token,
            self.kie_api_key,
            self.webhook_secret_path,
            self.webhook_secret_token,
            self.kie_callback_token,
            self.kie_webhook_hmac_key,
            self.payment_secret,
            self.metrics_token,
        ]
        values = [s.get_secret_value() for s in secrets if s is not None]
        parts = urlsplit(self.database_url.get_secret_value())
        if parts.password:
            values.append(parts.password)
        return [v for v in values if v]


def url_safe(secret: str) -> str:
    """A secret as it may stand in a URL path and in Telegram's secret_token (A-Z, a-z,
    0-9, `_`, `-`). Render's `generateValue` makes standard base64 (`+`, `/`, `=`): it
    becomes base64url, the same random bits in the allowed alphabet."""
    return secret.translate(_BASE64URL).rstrip("=")


_BASE64URL = str.maketrans("+/", "-_")


def parse_packages(value: str) -> list[tuple[int, int]]:
    """`50,100,250:5` → [(50, 0), (100, 0), (250, 5)]. Raises: ValueError naming the bad part."""
    packages: list[tuple[int, int]] = []
    for part in (p.strip() for p in value.split(",")):
        stars, _, bonus = part.partition(":")
        if not stars.isdigit() or not 1 <= int(stars) <= 10_000:
            raise ValueError(f"{part!r}: Stars must be a whole number from 1 to 10000")
        if bonus and (not bonus.isdigit() or int(bonus) > 100):
            raise ValueError(f"{part!r}: the bonus must be a percentage from 0 to 100")
        packages.append((int(stars), int(bonus or 0)))
    return packages


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _present(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out and pick the async drivers trt uses."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:"):
        url = "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgresql+asyncpg://"):
        # asyncpg spells libpq's sslmode as ssl.
        parts = urlsplit(url)
        query = [("ssl" if k == "sslmode" else k, v) for k, v in parse_qsl(parts.query)]
        url = urlunsplit(parts._replace(query=urlencode(query)))
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:")):
        raise ValueError("must be a postgres:// or sqlite:/// URL")
    return url


def describe_database(url: str) -> str:
    """Where the database is, for messages: host:port/name or the SQLite path, never a password."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        # sqlite:///rel.db is "rel.db", sqlite:////abs.db is "/abs.db": one slash is the URL's
        return parts.path[1:] or ":memory:"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}{parts.path}"


def load_settings(**overrides: Any) -> Settings:
    """Read the environment and `.env`. Raises: ConfigError naming every bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(
            [f"{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors(include_input=False)]
        ) from None
