"""render.yaml's build and start commands, run as written in a fresh copy of the repo with
the environment the blueprint declares (a throw-away Postgres on 127.0.0.1, PORT,
RENDER_EXTERNAL_URL on loopback); Telegram and KIE are the emulators. The health check
path answers, one update posted as Telegram would is answered, nothing leaks a secret."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from tests.deploy.blueprint import REPO_ROOT, environment, web_service
from tests.e2e.conftest import free_port
from tests.store.conftest import postgres_url
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import url_safe

USER = 4711
ADMIN = "4712"
START_WITHIN = 120.0  # seconds: the first start builds the copy's bytecode


def fresh_copy(target: Path) -> Path:
    """The repository's tracked files as they are on disk: what Render clones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@contextlib.asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[str]:
    """A new database on the test server with a password in its URL (the server trusts
    loopback, so any password works: it is there to prove it never reaches the log)."""
    server = make_url(postgres_url()).set(drivername="postgresql")
    name = f"trt_blueprint_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server.set(database="postgres").render_as_string(False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = server.set(database=name, password="db-PASSWORD-secret-9")
            yield url.render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def uv_dir() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is needed: Render's Python runtime has it when uv.lock is present"
    return str(Path(found).parent)


def shell_env(declared: dict[str, str]) -> dict[str, str]:
    """A clean environment as on Render: the declared variables and a PATH with uv. The
    interpreter Render installs from PYTHON_VERSION is this test's own (UV_PYTHON); this
    machine's way to the package index (certificates, proxies) is kept for the build."""
    network = {
        k: v for k, v in os.environ.items()
        if k in ("SSL_CERT_FILE", "SSL_CERT_DIR") or k.upper().endswith("_PROXY")
    }  # fmt: skip
    return {
        "PATH": f"{uv_dir()}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
        "UV_PYTHON": sys.executable, **network, **declared,
    }  # fmt: skip


async def until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the health check path every 50 ms (a child process signals nothing)."""
    async with asyncio.timeout(START_WITHIN), aiohttp.ClientSession() as http:
        while True:
            assert process.poll() is None, tail(log)
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.05)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def run_build(copy: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", web_service()["buildCommand"]], cwd=copy, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def update(update_id: int) -> dict[str, object]:
    chat = {"id": USER, "type": "private", "first_name": "Ann"}
    sender = {"id": USER, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    message = {"message_id": 1, "date": 1_700_000_000, "chat": chat, "from": sender,
               "text": "/start", "entities": [{"type": "bot_command", "offset": 0,
                                               "length": 6}]}  # fmt: skip
    return {"update_id": update_id, "message": message}


async def test_build_and_start_as_the_blueprint_says(tmp_path: Path) -> None:
    copy = fresh_copy(tmp_path / "repo")
    port = free_port()
    external = f"http://127.0.0.1:{port}"
    async with (
        throwaway_postgres() as database_url,
        run_telegram_emulator() as tg,
        run_emulator(rate_limit=None) as kie,
    ):
        tg.user(USER, language_code="en", first_name="Ann")
        declared = environment(
            database_url=database_url, port=port, external_url=external,
            asked={"TELEGRAM_BOT_TOKEN": tg.token, "KIE_API_KEY": "kie-key-SECRET-11",
                   "ADMIN_IDS": ADMIN},
        )  # fmt: skip
        # Where Telegram and KIE are: their emulators (the real ones are not reachable).
        reachable = {"TELEGRAM_API_BASE_URL": tg.base_url, "KIE_BASE_URL": kie.base_url,
                     "KIE_UPLOAD_BASE_URL": kie.base_url}  # fmt: skip
        env = shell_env(declared | reachable)
        build = await asyncio.to_thread(run_build, copy, env)
        assert build.returncode == 0, build.stdout + build.stderr
        assert (copy / ".venv/bin/trt").exists()
        for tool in ("pytest", "ruff", "mypy"):  # the dev group stays out of production
            assert not (copy / ".venv/bin" / tool).exists(), tool
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                ["bash", "-c", web_service()["startCommand"]], cwd=copy, env=env,
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            await until_ready(external + web_service()["healthCheckPath"], server, log)
            (registered,) = tg.calls_to("setWebhook")
            path = url_safe(declared["WEBHOOK_SECRET_PATH"])
            assert registered.params["url"] == f"{external}/webhook/{path}"
            headers = {"X-Telegram-Bot-Api-Secret-Token": url_safe(
                declared["WEBHOOK_SECRET_TOKEN"])}  # fmt: skip
            mark = tg.bot_message_mark(USER)
            async with (
                aiohttp.ClientSession() as http,
                http.post(f"{external}/webhook/{path}", json=update(1), headers=headers) as r,
            ):
                assert r.status == 200, await r.text()
            answer = await tg.wait_for_message(USER, timeout=30, after=mark)
            assert answer.text
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(60)
        output = log.read_text(errors="replace")
        assert code == 0, output[-4000:]
    assert "trt 0.1.0 serving" in output and "  role         leader" in output
    assert "storage      postgres at 127.0.0.1:5432/trt_blueprint_" in output
    assert "WARNING" not in output.split("trt 0.1.0 serving")[1].split("\n\n")[0]
    leaked = [
        name for name, value in declared.items()
        if name not in ("PORT", "RENDER", "RENDER_EXTERNAL_URL", "BOT_MODE", "PYTHON_VERSION",
                        "ADMIN_IDS")
        for form in {value, url_safe(value)} if form in output
    ]  # fmt: skip
    assert leaked == [], f"secrets in the log: {leaked}"
    assert "db-PASSWORD-secret-9" not in output
