"""The sandbox's settings, built in code: nothing is read from the environment or `.env`,
so a real TELEGRAM_BOT_TOKEN or KIE_API_KEY set in the shell can never be used."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from trt.sandbox.telegram.model import EmulatorOptions
from trt.settings import KieMode, Settings

SANDBOX_TOKEN = "100000001:SANDBOX-not-a-real-telegram-token"
SANDBOX_BOT = EmulatorOptions(
    token=SANDBOX_TOKEN, bot_username="trt_sandbox_bot", bot_first_name="trt · SANDBOX"
)
DEFAULT_DATA_DIR = Path("data/sandbox")
TEST_STARS = 500  # granted once to each preset test user, on the sandbox's own ledger


@dataclass(frozen=True)
class SandboxUser:
    id: int
    first_name: str
    language_code: str

    @property
    def language(self) -> str:
        return "ru" if self.language_code == "ru" else "en"


# The first one is the bot's admin.
TEST_USERS = (
    SandboxUser(1001, "Alice", "en"),
    SandboxUser(1002, "Борис", "ru"),
    SandboxUser(1003, "Chen", "en"),
)


class SandboxSettings(Settings):
    """`Settings` that take their values from the constructor only."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def sandbox_settings(*, telegram_url: str, serve_port: int, data_dir: Path) -> Settings:
    """Settings for `trt serve` inside the sandbox: the emulated Telegram at
    `telegram_url`, an in-process KIE emulator, webhook mode on `serve_port`, SQLite."""
    return SandboxSettings(
        telegram_bot_token=SANDBOX_TOKEN,
        telegram_api_base_url=telegram_url,
        kie_mode=KieMode.EMULATOR,  # with the default KIE URL: runtime starts its own emulator
        admin_id=TEST_USERS[0].id,
        bot_mode="webhook",
        webhook_base_url=f"http://127.0.0.1:{serve_port}",
        webhook_secret_path=secrets.token_urlsafe(16),
        webhook_secret_token=secrets.token_urlsafe(24),
        kie_callback_token=secrets.token_urlsafe(24),
        database_url=f"sqlite+aiosqlite:///{(data_dir / 'trt.db').resolve()}",
        port=serve_port,
    )
