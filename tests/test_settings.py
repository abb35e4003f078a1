from __future__ import annotations

from pathlib import Path

import pytest

from trt.errors import ConfigError
from trt.settings import (
    DEFAULT_DATABASE_URL,
    BotMode,
    KieMode,
    Purpose,
    Settings,
    describe_database,
    load_settings,
    normalise_database_url,
)


class TestLoading:
    def test_empty_environment_gives_defaults(self) -> None:
        """With nothing set, settings load with the documented defaults."""
        s = load_settings()
        assert s.database_url.get_secret_value() == DEFAULT_DATABASE_URL
        assert (s.bot_mode, s.kie_mode, s.port) == (BotMode.POLLING, KieMode.REAL, 8080)
        assert s.kie_callback_path == "callbacks/kie"

    def test_malformed_values_are_all_listed_by_variable(self, monkeypatch) -> None:
        """Every malformed variable is named in one error, without its value."""
        monkeypatch.setenv("BOT_MODE", "carrier-pigeon")
        monkeypatch.setenv("PORT", "eighty")
        monkeypatch.setenv("ADMIN_IDS", "1,two")
        with pytest.raises(ConfigError) as caught:
            load_settings()
        text = str(caught.value)
        for name in ("BOT_MODE", "PORT", "ADMIN_IDS"):
            assert name in text
        assert "carrier-pigeon" not in text

    def test_dotenv_is_read_and_unrelated_keys_ignored(self, tmp_path: Path) -> None:
        """A .env in the working folder is read; keys trt does not know are ignored."""
        (tmp_path / ".env").write_text("KIE_API_KEY=from-dotenv\nSOMETHING_ELSE=1\n")
        s = load_settings()
        assert s.kie_api_key is not None
        assert s.kie_api_key.get_secret_value() == "from-dotenv"

    def test_admin_ids_merge_with_admin_id(self, monkeypatch) -> None:
        """ADMIN_ID and the comma-separated ADMIN_IDS together name the admins."""
        monkeypatch.setenv("ADMIN_ID", "7")
        monkeypatch.setenv("ADMIN_IDS", "8, 9")
        assert load_settings().all_admin_ids == {7, 8, 9}

    def test_dry_run_means_emulator(self, monkeypatch) -> None:
        """DRY_RUN=1 switches KIE to the emulator."""
        monkeypatch.setenv("DRY_RUN", "1")
        assert load_settings().kie_mode is KieMode.EMULATOR

    def test_empty_values_count_as_unset(self, monkeypatch) -> None:
        """An empty variable (common in .env templates) falls back to the default."""
        monkeypatch.setenv("PORT", "")
        monkeypatch.setenv("WEBHOOK_BASE_URL", "")
        s = load_settings()
        assert (s.port, s.webhook_base_url) == (8080, None)


def webhook_settings(**changes: str) -> Settings:
    """A complete webhook-mode configuration, with `changes` applied."""
    values = {
        "telegram_bot_token": "1:T", "kie_mode": "emulator", "admin_id": "1",
        "bot_mode": "webhook", "webhook_base_url": "https://bot.example.com",
        "webhook_secret_path": "path-1", "webhook_secret_token": "token-1",
        "kie_callback_token": "cb-1", **changes,
    }  # fmt: skip
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


class TestRequirements:
    def test_serve_in_webhook_mode_lists_every_missing_variable(self, monkeypatch) -> None:
        """`trt serve` in webhook mode names each missing variable at once."""
        monkeypatch.setenv("BOT_MODE", "webhook")
        with pytest.raises(ConfigError) as caught:
            load_settings().require(Purpose.SERVE)
        missing = [p.split()[0] for p in caught.value.problems]
        assert missing == [
            "KIE_API_KEY", "TELEGRAM_BOT_TOKEN", "ADMIN_ID", "WEBHOOK_BASE_URL",
            "WEBHOOK_SECRET_PATH", "WEBHOOK_SECRET_TOKEN", "KIE_CALLBACK_TOKEN",
        ]  # fmt: skip

    @pytest.mark.parametrize(
        ("base_url", "ok"),
        [
            ("https://bot.example.com", True),
            ("http://bot.example.com", False),
            ("http://127.0.0.1:8080", True),
            ("http://localhost:8080", True),
            ("http://[::1]:8080", True),
            ("http://10.0.0.5", False),
        ],
    )
    def test_webhook_base_url_must_be_https_unless_loopback(self, base_url: str, ok: bool):
        """Telegram calls only https webhooks; plain http is for a loopback test setup."""
        problems = webhook_settings(webhook_base_url=base_url).problems_for(Purpose.SERVE)
        assert (problems == []) is ok, problems
        assert all("WEBHOOK_BASE_URL must be https" in p for p in problems)

    @pytest.mark.parametrize(
        ("token", "ok"),
        [("A-z_0-9", True), ("x" * 256, True), ("bad token!", False), ("x" * 257, False),
         ("tökén", False)],
    )  # fmt: skip
    def test_webhook_secret_token_follows_telegrams_rule(self, token: str, ok: bool) -> None:
        """1-256 of A-Z a-z 0-9 _ -, checked at start; the message never shows the value."""
        problems = webhook_settings(webhook_secret_token=token).problems_for(Purpose.SERVE)
        assert (problems == []) is ok, problems
        assert all(token not in p and "WEBHOOK_SECRET_TOKEN" in p for p in problems)

    def test_webhook_secret_path_must_fit_in_a_url(self) -> None:
        """A secret path with a slash or a question mark would break the webhook URL."""
        problems = webhook_settings(webhook_secret_path="a/b?c").problems_for(Purpose.SERVE)
        assert len(problems) == 1 and problems[0].startswith("WEBHOOK_SECRET_PATH")

    def test_emulator_mode_needs_no_kie_key(self) -> None:
        """With the KIE emulator chosen, no KIE key is required."""
        s = Settings(_env_file=None, kie_mode=KieMode.EMULATOR)
        assert s.problems_for(Purpose.KIE) == []


class TestSecrets:
    def test_secrets_never_appear_in_repr_or_dump(self) -> None:
        """Tokens and keys are masked in repr and in a JSON dump."""
        s = Settings(
            _env_file=None,
            telegram_bot_token="123:SECRET-TOKEN",
            kie_api_key="kie-secret",
            database_url="postgresql://u:db-password@h/db",
        )
        for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
            assert "SECRET-TOKEN" not in text
            assert "kie-secret" not in text
            assert "db-password" not in text
        assert set(s.secret_values()) >= {"123:SECRET-TOKEN", "kie-secret", "db-password"}

    def test_the_production_database_url_form_hides_its_password(self, monkeypatch) -> None:
        """DATABASE_URL=postgres://user:pass@host/db is read, used, and shown as host and
        database only."""
        monkeypatch.setenv("DATABASE_URL", "postgres://user:pass-WORD@db.example/trt")
        s = load_settings()
        assert (
            s.database_url.get_secret_value()
            == "postgresql+asyncpg://user:pass-WORD@db.example/trt"
        )
        assert s.database_location == "db.example/trt"
        assert "pass-WORD" not in repr(s) + s.model_dump_json()
        assert s.storage_kind == "postgres"

    def test_database_description_has_no_password(self) -> None:
        """Messages name the database host and name, never its password."""
        url = normalise_database_url("postgres://u:pw@db.example:6543/trt")
        assert describe_database(url) == "db.example:6543/trt"


class TestDatabaseUrl:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
            ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
            ("postgres://u@h/db?sslmode=require", "postgresql+asyncpg://u@h/db?ssl=require"),
            ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
            (DEFAULT_DATABASE_URL, DEFAULT_DATABASE_URL),
        ],
    )
    def test_hosting_platform_urls_are_accepted(self, given: str, expected: str) -> None:
        """Plain postgres:// and sqlite:// URLs are rewritten for the async drivers."""
        assert normalise_database_url(given) == expected

    def test_unsupported_database_is_refused(self) -> None:
        """A URL for another database is a configuration error naming DATABASE_URL."""
        with pytest.raises(ConfigError, match="DATABASE_URL"):
            load_settings(database_url="mysql://h/db")
