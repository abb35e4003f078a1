"""Clumsy command lines: numbers past their column's range, absurd durations, a taken port
and a mistyped database path each get one clear line, never a traceback or a new file."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import served_in_thread
from tests.conftest import CliInvoke
from trt.sandbox.telegram.runner import run_telegram_emulator

TOKEN = "123456789:hostile-TEST-token"
HUGE = str(2**64)


def assert_one_clear_line(output: str) -> None:
    """An error a person reads at a glance: no traceback, a few lines at most."""
    assert "Traceback" not in output and 'File "' not in output, output
    assert len(output.strip().splitlines()) <= 4, output


class TestNumbersPastTheirRange:
    @pytest.mark.parametrize(
        ("args", "names"),
        [
            (["users", "show", HUGE], "USER_ID"),
            (["users", "show", "0"], "USER_ID"),
            (["users", "ban", HUGE], "USER_ID"),
            (["users", "credit", "111", "9223372036854775808", "--reason", "r"], "AMOUNT"),
            (["users", "credit", "111", "2147483648", "--reason", "r"], "AMOUNT"),
            (["users", "credit", HUGE, "5", "--reason", "r"], "USER_ID"),
            (["jobs", "list", "--user", HUGE], "--user"),
            (["payments", "list", "--user", HUGE], "--user"),
            (["promo", "create", "X", "--stars", "99999999999999999999999"], "--stars"),
            (["promo", "create", "X", "--stars", "9223372036854775807"], "--stars"),
            (["promo", "create", "X", "--stars", "5", "--uses", HUGE], "--uses"),
            (["jobs", "list", "--since", "99999999999d"], "--since"),
            (["payments", "list", "--since", "99999999999w"], "--since"),
        ],
    )
    def test_is_a_usage_error_naming_the_argument(
        self, trt: CliInvoke, seeded, args: list[str], names: str
    ) -> None:
        """Refused before any database work, exit 2, naming the argument."""
        result = trt(*args)
        assert result.exit_code == 2, result.output
        assert names.lower() in result.output.lower()
        assert_one_clear_line(result.output)

    def test_a_grant_past_the_largest_balance_is_refused(self, trt: CliInvoke, seeded) -> None:
        """A grant that would take a balance past 2^31 - 1 is one line, and moves nothing."""
        result = trt("users", "credit", "111", "2147483647", "--reason", "r")
        assert result.exit_code == 4, result.output
        assert "more than 2147483647" in result.output
        assert_one_clear_line(result.output)
        assert '"balance": 88' in trt("users", "show", "111", "--json").stdout


class TestReadOnlyCommandsCreateNothing:
    @pytest.mark.parametrize(
        "args",
        [
            ["jobs", "list"], ["users", "show", "1"], ["payments", "list"], ["promo", "list"],
            ["db", "current"], ["verify", "--json"],
        ],
    )  # fmt: skip
    def test_a_mistyped_sqlite_path_is_an_error_not_a_new_file(
        self, trt: CliInvoke, tmp_path: Path, args: list[str]
    ) -> None:
        """No file and no folder appears; the message names the path and the fix."""
        missing = tmp_path / "no" / "such" / "dir" / "x.db"
        result = trt(*args, env={"DATABASE_URL": f"sqlite:///{missing}"})
        assert result.exit_code != 0
        assert "trt db upgrade" in result.output
        assert not (tmp_path / "no").exists()
        if args[0] != "verify":  # verify reports it as its database check
            assert_one_clear_line(result.output)

    def test_upgrade_still_creates_the_database(self, trt: CliInvoke, tmp_path: Path) -> None:
        """`trt db upgrade` is the command that makes a new SQLite file, folders included."""
        target = tmp_path / "new" / "x.db"
        result = trt("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{target}"})
        assert result.exit_code == 0, result.output
        assert target.is_file()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


class TestTakenPort:
    def test_kie_emulate_says_so_in_one_line(self, trt: CliInvoke, taken_port: int) -> None:
        """`trt kie emulate` on a port another process holds: one line, exit 69."""
        result = trt("kie", "emulate", "--port", str(taken_port))
        assert result.exit_code == 69, result.output
        assert f"cannot listen on 127.0.0.1:{taken_port}: Address already in use" in result.output
        assert_one_clear_line(result.output)

    def test_serve_says_so_in_one_line(
        self, trt: CliInvoke, taken_port: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`trt serve` on a port another process holds: one line, exit 69."""
        with served_in_thread(lambda: run_telegram_emulator(token=TOKEN)) as tg:
            for name, value in {
                "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.base_url,
                "ADMIN_ID": "1", "KIE_MODE": "emulator",
            }.items():  # fmt: skip
                monkeypatch.setenv(name, value)
            result = trt("serve", "--migrate", "--host", "127.0.0.1", "--port", str(taken_port))
        assert result.exit_code == 69, result.output
        errors = [line for line in result.output.splitlines() if "error" in line.lower()]
        assert errors == [
            f"error: cannot listen on 127.0.0.1:{taken_port}: Address already in use"
        ]
        assert "Traceback" not in result.output
