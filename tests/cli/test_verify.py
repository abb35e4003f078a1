from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CliInvoke
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator

TOKEN = "123456789:verify-TEST-token"


@pytest.fixture
def configured(trt: CliInvoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything `trt serve` needs in polling mode with the KIE emulator, migrated."""
    for name, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_ID": "1", "KIE_MODE": "emulator",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert trt("db", "upgrade").exit_code == 0


def outcomes(result_stdout: str) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in json.loads(result_stdout)["checks"]}


def checks(result_stdout: str) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(result_stdout)["checks"]}


class TestVerify:
    def test_ready_deployment_passes(self, trt: CliInvoke, configured) -> None:
        """With settings, registry and schema in order every offline check passes."""
        result = trt("verify", "--json")
        assert result.exit_code == 0, result.output
        assert set(outcomes(result.stdout).values()) == {"PASS"}

    def test_missing_settings_and_schema_fail(self, trt: CliInvoke) -> None:
        """An empty environment fails settings and database and names the fix."""
        result = trt("verify")
        assert result.exit_code == 1
        assert "TELEGRAM_BOT_TOKEN" in result.output
        assert "trt db upgrade" in result.output

    def test_stale_registry_fails(
        self, trt: CliInvoke, configured, repo_root: Path, tmp_path: Path, monkeypatch
    ) -> None:
        """A source edited after the last build makes the registry check fail."""
        copy = tmp_path / "registry"
        shutil.copytree(repo_root / "registry", copy)
        source = next((copy / "models").rglob("*.toml"))
        text = source.read_text().replace("deadline_seconds = ", "deadline_seconds = 1")
        source.write_text(text)
        monkeypatch.setenv("TRT_REGISTRY_DIR", str(copy))
        result = trt("verify", "--json")
        assert result.exit_code == 1
        assert outcomes(result.stdout)["registry"] == "FAIL"

    def test_json_never_contains_secrets(self, trt: CliInvoke, configured) -> None:
        """The verify report names variables, never their values."""
        result = trt("verify", "--json")
        assert TOKEN not in result.output

    def test_the_production_database_url_form_passes_the_secret_check(
        self, trt: CliInvoke, configured, monkeypatch
    ) -> None:
        """`postgres://user:pass@host/db` is no secret in the dump; the password appears
        nowhere in the report, even when the database cannot be reached (port 1)."""
        monkeypatch.setenv("DATABASE_URL", "postgres://user:pass-WORD-9@127.0.0.1:1/trt")
        result = trt("verify", "--json")
        assert outcomes(result.stdout)["secrets"] == "PASS"
        assert outcomes(result.stdout)["database"] == "FAIL"
        assert "pass-WORD-9" not in result.output
        human = trt("verify")
        assert "pass-WORD-9" not in human.output


class TestVerifyLedger:
    def test_a_ledger_that_adds_up_passes(self, trt: CliInvoke, configured, seeded) -> None:
        """Top-ups, holds and charges made through the store keep the invariant: PASS."""
        result = trt("verify", "--json")
        assert result.exit_code == 0, result.output
        assert outcomes(result.stdout)["ledger"] == "PASS"

    def test_a_balance_changed_behind_the_ledger_fails(
        self, trt: CliInvoke, configured, seeded
    ) -> None:
        """A balance edited by hand fails verify, naming that user and no secret."""
        with contextlib.closing(sqlite3.connect("data/trt.db")) as db, db:
            db.execute("UPDATE users SET balance = balance + 5 WHERE id = 222")
        result = trt("verify", "--json")
        assert result.exit_code == 1
        reason = checks(result.stdout)["ledger"]
        assert (reason["outcome"], reason["reason"]) == (
            "FAIL", "user 222: balance 5/held 60 but ledger says 0/60",
        )  # fmt: skip
        assert TOKEN not in result.output
        assert trt("verify").exit_code == 1


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    """A Telegram emulator on its own loop in a thread (the CLI runs its own asyncio.run)."""
    started = threading.Event()
    box: list[tuple[TelegramEmulator, asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        async with run_telegram_emulator(token=TOKEN) as tg:
            box.append((tg, asyncio.get_running_loop(), stop))
            started.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(5)
    tg, loop, stop = box[0]
    yield tg
    loop.call_soon_threadsafe(stop.set)
    thread.join(5)


class TestVerifyOnline:
    def test_online_asks_kie_and_telegram(
        self, trt: CliInvoke, configured, telegram: TelegramEmulator, monkeypatch
    ) -> None:
        """--online reports the KIE balance and the bot's name from getMe."""
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram.base_url)
        result = trt("verify", "--online", "--json")
        assert result.exit_code == 0, result.output
        checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
        assert "credits left" in checks["KIE account"]["reason"]
        assert checks["Telegram"]["reason"].startswith("@trt_test_bot")
