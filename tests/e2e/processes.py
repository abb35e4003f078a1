"""`trt serve` as a real child process, for tests that kill it (SIGKILL) or run two."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

TRT = str(Path(sys.executable).parent / "trt")


def env_of(settings: dict[str, Any]) -> dict[str, str]:
    """Settings as the environment variables `trt serve` reads."""
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env |= {name.upper(): str(value) for name, value in settings.items() if value is not None}
    return env


class ServerProcess:
    def __init__(self, settings: dict[str, Any], log: Path) -> None:
        self.settings = settings
        self.port = int(settings["port"])
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, *, within: float = 30.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [TRT, "serve", "--host", "127.0.0.1"], env=env_of(self.settings),
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        await self._wait_healthy(within)

    async def _wait_healthy(self, within: float) -> None:
        """Re-checks /health every 50 ms until it answers (a child process signals nothing)."""
        async with asyncio.timeout(within), aiohttp.ClientSession() as http:
            while True:
                assert self.process is not None and self.process.poll() is None, self.log_text()
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{self.port}/health") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, *, within: float = 30.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(within)

    def log_text(self, *, whole: bool = False) -> str:
        text = self.log.read_text(errors="replace")
        return text if whole else text[-4000:]

    def ensure_stopped(self) -> None:
        """Kill the process if a failing test left it running (never leak a server)."""
        if self.process is not None and self.process.poll() is None:
            self.kill()
