"""Fixtures shared by every test: a clean environment and the `trt` CLI runner."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from trt.cli import app
from trt.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]

CliInvoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts with none of trt's variables set, plain output, in an empty folder."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def trt() -> CliInvoke:
    """Run the CLI in-process; unexpected exceptions propagate instead of being swallowed."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        merged = {**os.environ, **(env or {})}
        return runner.invoke(app, list(args), env=merged, input=input, catch_exceptions=False)

    return invoke


# --- The secret scan -------------------------------------------------------------------
# Every secret any Settings object in the test run held, and every log line the run wrote
# (at INFO and above, exceptions included): at the end no line may contain a secret.
SEEN_SECRETS: set[str] = set()
LOG_LINES: list[str] = []


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a broken record must not break the scan
            LOG_LINES.append(self.format(record))


def pytest_sessionstart(session: pytest.Session) -> None:
    original = Settings.__init__

    def remember_secrets(self: Settings, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        SEEN_SECRETS.update(self.secret_values())

    Settings.__init__ = remember_secrets  # type: ignore[method-assign, assignment]
    root = logging.getLogger()
    root.addHandler(_Recorder())
    root.setLevel(min(root.level or logging.INFO, logging.INFO))


def _mask(line: str, secrets: list[str]) -> str:
    for secret in secrets:
        line = line.replace(secret, "***")
    return line


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = sorted({s for s in SEEN_SECRETS for line in LOG_LINES if s in line})
    if leaks:
        masked = [f"{s[:3]}…({len(s)} chars)" for s in leaks]
        session.exitstatus = 1
        sys.stderr.write(f"\nSECRET SCAN FAILED: {len(leaks)} secret(s) in the logs: {masked}\n")
        for line in LOG_LINES:
            if any(s in line for s in leaks):  # where, with the secret itself masked
                sys.stderr.write("  " + _mask(line, leaks)[:300] + "\n")
    else:
        sys.stderr.write(
            f"\nsecret scan: {len(LOG_LINES)} log lines, {len(SEEN_SECRETS)} secrets, no leak\n"
        )
