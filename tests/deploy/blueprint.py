"""The Render Blueprint (render.yaml) read the way Render reads it, for the deploy tests."""

from __future__ import annotations

import base64
import os
import shlex
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def blueprint() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / "render.yaml").read_text())
    return document


def web_service() -> dict[str, Any]:
    services: list[dict[str, Any]] = blueprint()["services"]
    (service,) = [s for s in services if s["type"] == "web"]
    return service


def env_entries() -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in web_service()["envVars"]}


def render_generated() -> str:
    """What Render's `generateValue: true` makes: a base64-encoded 256-bit value."""
    return base64.b64encode(os.urandom(32)).decode()


def environment(
    *, database_url: str, port: int, external_url: str, asked: dict[str, str]
) -> dict[str, str]:
    """The environment a Render instance gets from the blueprint: literals, generated
    secrets, the database's connection string, the values asked for at sync (`asked`), and
    the variables Render sets itself."""
    env = {"RENDER": "true", "RENDER_EXTERNAL_URL": external_url, "PORT": str(port)}
    for key, entry in env_entries().items():
        if "value" in entry:
            env[key] = str(entry["value"])
        elif entry.get("generateValue"):
            env[key] = render_generated()
        elif "fromDatabase" in entry:
            env[key] = database_url
        elif entry.get("sync") is False:
            env[key] = asked[key]
    return env


def command_line(name: str, port: int) -> list[str]:
    """A blueprint command as the shell would split it, with $PORT expanded."""
    return shlex.split(web_service()[name].replace("$PORT", str(port)))
