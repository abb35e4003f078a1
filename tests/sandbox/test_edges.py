"""Bad input at the sandbox's edges: reloads mid-form, two tabs, oversized uploads,
unknown Bot API methods, a taken port, and real tokens in the environment."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests.sandbox.conftest import Chat, en, has_button, has_button_starting
from tests.sandbox.test_flows import PROMPT, open_first_model
from trt.errors import UsageError
from trt.runtime import DEFAULT_KIE_BASE_URL
from trt.sandbox.run import Sandbox, open_sandbox
from trt.sandbox.settings import SANDBOX_TOKEN, sandbox_settings

MB = 1024 * 1024


class TestReloadAndTabs:
    async def test_a_reload_in_the_middle_of_a_form_continues_it(
        self, sandbox: Sandbox, http: ClientSession, alice: Chat
    ) -> None:
        """A fresh page (no version known) gets the whole chat and the form goes on."""
        question = await open_first_model(alice, "text-to-image")
        reloaded = Chat(http, sandbox.url, alice.user_id)
        chat = await reloaded.state()
        live = [m for m in chat["messages"] if m["from_bot"] and not m["deleted"]]
        assert live[-1]["message_id"] == question["message_id"]
        await reloaded.send(PROMPT)
        await reloaded.wait_for(has_button_starting("🚀"))

    async def test_two_tabs_of_one_user_both_see_each_message(
        self, sandbox: Sandbox, http: ClientSession, alice: Chat
    ) -> None:
        """A long poll in the second tab wakes for what the first tab sent, and the bot's reply."""
        other = Chat(http, sandbox.url, alice.user_id)
        other.version = (await other.state())["version"]
        waiting = asyncio.create_task(other.wait_for(has_button(en("category.text-to-image"))))
        await alice.send("/start")
        menu = await waiting
        assert menu == await alice.wait_for(has_button(en("category.text-to-image")))


class TestUploads:
    async def test_a_photo_over_telegrams_photo_limit_is_refused(self, alice: Chat) -> None:
        """A photo over 10 MB is a clear 400 (send it as a file) and never reaches the bot."""
        status, body = await alice.upload(b"\x89PNG" + bytes(10 * MB), "photo", "big.png")
        assert status == 400 and "10 MB" in body["error"]
        assert all(m["kind"] != "photo" for m in (await alice.state())["messages"])

    async def test_an_empty_file_and_an_unknown_kind_are_refused(self, alice: Chat) -> None:
        """An empty file or a kind Telegram does not have is a 400 with the reason."""
        status, body = await alice.upload(b"", "document", "empty.txt")
        assert (status, body["error"]) == (400, "the file is empty")
        status, body = await alice.upload(b"x", "sticker", "x.webp")
        assert status == 400 and "kind must be one of" in body["error"]


class TestBotApi:
    async def test_an_unknown_method_is_a_400_naming_it(
        self, sandbox: Sandbox, http: ClientSession
    ) -> None:
        """The emulator never answers an unknown Bot API method with a silent success."""
        url = f"{sandbox.url}bot{SANDBOX_TOKEN}/sendHologram"
        async with http.post(url, json={"chat_id": 1001}) as answer:
            body = await answer.json()
        assert answer.status == 400 and body["ok"] is False
        assert "sendHologram" in body["description"]


class TestIsolation:
    def test_real_tokens_in_the_environment_are_never_used(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """TELEGRAM_BOT_TOKEN, KIE_API_KEY and the API URLs from the shell or .env are ignored."""
        real = {
            "TELEGRAM_BOT_TOKEN": "42:REAL-token", "KIE_API_KEY": "real-kie-key",
            "KIE_BASE_URL": "https://kie.example", "KIE_MODE": "real",
            "TELEGRAM_API_BASE_URL": "https://tg.example", "DATABASE_URL": "postgres://x@h/db",
        }  # fmt: skip
        for name, value in real.items():
            monkeypatch.setenv(name, value)
        (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in real.items()))
        settings = sandbox_settings(
            telegram_url="http://127.0.0.1:9", serve_port=9, data_dir=tmp_path
        )
        assert settings.telegram_bot_token is not None
        assert settings.telegram_bot_token.get_secret_value() == SANDBOX_TOKEN
        assert settings.kie_api_key is None and settings.kie_mode.value == "emulator"
        assert settings.kie_base_url == DEFAULT_KIE_BASE_URL  # so runtime runs its own emulator
        assert settings.telegram_api_base_url == "http://127.0.0.1:9"
        assert settings.database_url.get_secret_value().startswith("sqlite+aiosqlite:///")

    async def test_the_bot_talks_to_the_emulator_with_tokens_set(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """With real tokens exported, the running bot still answers through the emulator."""
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "42:REAL-token")
        monkeypatch.setenv("KIE_API_KEY", "real-kie-key")
        async with open_sandbox(port=0, data_dir=tmp_path, flood_limits=False) as sandbox:
            mark = sandbox.telegram.bot_message_mark(1001)
            await sandbox.telegram.send_text(1001, "/start")
            await sandbox.telegram.wait_for_message(1001, timeout=10, after=mark)
            assert sandbox.telegram.calls_to("setWebhook")
        assert sandbox.settings.kie_api_key is None

    async def test_a_taken_port_is_a_clear_usage_error(self, tmp_path: Path) -> None:
        """Another program on the port: the error names --port and the address."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(UsageError, match=rf"--port: cannot listen on 127.0.0.1:{port}"):
                async with open_sandbox(port=port, data_dir=tmp_path):
                    pass
