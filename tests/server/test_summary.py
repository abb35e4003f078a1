"""The start-up summary: what serves, with secrets masked, and the loud warnings."""

from __future__ import annotations

from typing import Any

from trt.server.summary import summarise
from trt.settings import Settings

SECRETS = {
    "telegram_bot_token": "123:BOT-SECRET", "webhook_secret_path": "path-SECRET",
    "webhook_secret_token": "token-SECRET", "kie_callback_token": "callback-SECRET",
    "kie_api_key": "kie-SECRET",
}  # fmt: skip
CALLBACK = "https://trt.onrender.com/callbacks/kie/callback-SECRET"


def settings(**extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_mode": "webhook", "webhook_base_url": "https://trt.onrender.com",
        "admin_ids": "1,2,3", "port": 10000,
        "database_url": "postgres://trt:DB-PASSWORD-SECRET@db.internal:5432/trt",
        **SECRETS, **extra,
    }  # fmt: skip
    return Settings(_env_file=None, **values)


def text_of(s: Settings, *, emulated: bool = False, role: str = "leader") -> str:
    summary = summarise(s, bot_on=True, kie_emulated=emulated, callback_url=CALLBACK, role=role)
    return "\n".join(summary.lines())


class TestSummary:
    def test_says_what_serves_with_every_secret_masked(self) -> None:
        s = settings()
        text = text_of(s)
        assert text.splitlines() == [
            "trt 0.1.0 serving",
            "  bot mode     webhook",
            "  port         10000",
            "  storage      postgres at db.internal:5432/trt",
            "  webhook      https://trt.onrender.com/webhook/***",
            "  KIE callback https://trt.onrender.com/callbacks/kie/***",
            "  KIE          real (https://api.kie.ai)",
            "  admins       3",
            "  role         leader",
        ]
        for secret in s.secret_values():
            assert secret not in text

    def test_polling_without_callback(self) -> None:
        s = settings(bot_mode="polling", webhook_base_url=None)
        summary = summarise(s, bot_on=True, kie_emulated=False, callback_url=None,
                            role="follower")  # fmt: skip
        assert summary.webhook_url is None
        assert "none: KIE tasks are settled by polling" in "\n".join(summary.lines())
        assert summary.role == "follower"


class TestWarnings:
    def test_sqlite_on_render_is_a_warning(self) -> None:
        """Render's disk does not persist: SQLite there loses money and jobs."""
        s = settings(render=True, database_url="sqlite:///./data/trt.db")
        (warning,) = summarise(s, bot_on=True, kie_emulated=False, callback_url=None,
                               role="leader").warnings  # fmt: skip
        assert warning.startswith("SQLite on Render")
        assert "WARNING: SQLite on Render" in text_of(s)

    def test_sqlite_elsewhere_and_postgres_on_render_are_not(self) -> None:
        for s in (settings(database_url="sqlite:///./data/trt.db"), settings(render=True)):
            assert summarise(s, bot_on=True, kie_emulated=False, callback_url=None,
                             role="leader").warnings == ()  # fmt: skip

    def test_the_kie_emulator_in_webhook_mode_is_a_warning(self) -> None:
        (warning,) = summarise(settings(), bot_on=True, kie_emulated=True, callback_url=None,
                               role="leader").warnings  # fmt: skip
        assert warning.startswith("KIE emulator in webhook mode")
        polling = settings(bot_mode="polling")
        assert summarise(polling, bot_on=True, kie_emulated=True, callback_url=None,
                         role="leader").warnings == ()  # fmt: skip
