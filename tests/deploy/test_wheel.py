"""The wheel is the whole product: installed into a fresh venv, outside any checkout, it
lists its models, passes `trt verify` and offers `trt serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.blueprint import REPO_ROOT

INSTALL_TIMEOUT = 300


def uv() -> str:
    """The uv running this test suite (`uv run` says where), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is needed to build the wheel (scripts/check installs it)"
    return found


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # an empty folder outside the checkout, to run commands in

    def trt(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(self.home), **env}
        return subprocess.run(
            [str(self.venv / "bin" / "trt"), *args], cwd=self.home, env=environ,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The wheel built from this checkout, installed with its locked dependencies (no dev
    tools) into a new venv."""
    root = tmp_path_factory.mktemp("wheel")
    dist, venv, home = root / "dist", root / "venv", root / "home"
    home.mkdir()
    run([uv(), "build", "--wheel", "--out-dir", str(dist)], cwd=REPO_ROOT)
    (wheel,) = dist.glob("trt-*.whl")
    requirements = root / "requirements.txt"
    run([uv(), "export", "--locked", "--no-dev", "--no-hashes", "--no-emit-project",
         "--output-file", str(requirements), "--quiet"], cwd=REPO_ROOT)  # fmt: skip
    run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=root)
    run([uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         "-r", str(requirements), str(wheel)], cwd=root)  # fmt: skip
    yield Installed(venv, home)


def registry_models(folder: Path) -> list[str]:
    return sorted(m["id"] for m in json.loads((folder / "registry.json").read_text())["models"])


class TestInstalledWheel:
    def test_registry_list_shows_every_model(self, installed: Installed) -> None:
        """`trt registry list --all --json` from the wheel has every model of the checkout."""
        done = installed.trt("registry", "list", "--all", "--json")
        assert done.returncode == 0, done.stderr
        listed = sorted(m["id"] for m in json.loads(done.stdout)["models"])
        assert listed == registry_models(REPO_ROOT / "registry")
        assert len(listed) > 50

    def test_the_registry_is_the_installed_one(self, installed: Installed) -> None:
        """Validation reads the copy inside site-packages, not a checkout."""
        done = installed.trt("registry", "validate")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "site-packages/trt/catalog/registry_data" in done.stdout

    def test_trt_registry_dir_still_overrides(self, installed: Installed) -> None:
        """A registry folder named by TRT_REGISTRY_DIR wins over the packaged one."""
        own = installed.home / "own-registry"
        shutil.copytree(REPO_ROOT / "registry" / "models", own / "models")
        for source in sorted((own / "models").rglob("*.toml"))[1:]:
            source.unlink()
        built = installed.trt("registry", "build", TRT_REGISTRY_DIR=str(own))
        assert built.returncode == 0, built.stdout + built.stderr
        done = installed.trt("registry", "list", "--all", "--json", TRT_REGISTRY_DIR=str(own))
        assert done.returncode == 0, done.stderr
        assert [m["id"] for m in json.loads(done.stdout)["models"]] == registry_models(own)
        assert len(registry_models(own)) == 1

    def test_trt_verify_passes(self, installed: Installed) -> None:
        """`trt verify` passes every check with a migrated database and complete settings."""
        env = {
            "TELEGRAM_BOT_TOKEN": "123456:wheel-test-token", "ADMIN_ID": "1",
            "KIE_MODE": "emulator", "BOT_MODE": "polling",
            "DATABASE_URL": f"sqlite:///{installed.home / 'trt.db'}",
        }  # fmt: skip
        migrated = installed.trt("db", "upgrade", **env)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        done = installed.trt("verify", "--json", **env)
        assert done.returncode == 0, done.stdout + done.stderr
        checks = json.loads(done.stdout)["checks"]
        assert {c["name"]: c["outcome"] for c in checks} == {c["name"]: "PASS" for c in checks}
        assert {"registry", "database", "bot dispatcher", "server app"} <= {
            c["name"] for c in checks
        }

    def test_trt_serve_help(self, installed: Installed) -> None:
        done = installed.trt("serve", "--help")
        assert done.returncode == 0, done.stderr
        assert "--migrate" in done.stdout
