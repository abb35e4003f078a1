"""Fixtures shared by every test: a clean environment and the `trt` CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

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
