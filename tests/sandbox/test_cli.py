"""`trt serve --sandbox` as a person runs it: one line with the page's URL, no variables
needed, and a clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from pathlib import Path

from aiohttp import ClientSession

from tests.conftest import CliInvoke
from trt.sandbox.run import Sandbox

LAUNCH = "from trt.cli import main; main()"


class TestCommand:
    async def test_it_prints_the_url_serves_the_page_and_stops_on_ctrl_c(
        self, tmp_path: Path
    ) -> None:
        """With an empty environment: the URL line, the page at it, exit 0 after SIGINT."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LAUNCH, "serve", "--sandbox", "--port", "0",
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        try:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert "sandbox" in line and "http://127.0.0.1:" in line, line
            url = line[line.index("http://") :].strip()
            async with ClientSession() as http, http.get(url) as page:
                assert page.status == 200 and "SANDBOX" in await page.text()
        finally:
            process.send_signal(signal.SIGINT)
            asked = time.monotonic()
            _, errors = await asyncio.wait_for(process.communicate(), 30)
            took = time.monotonic() - asked
        assert process.returncode == 0, errors.decode()
        assert took <= 3.0, f"an idle sandbox took {took:.1f} s to stop after Ctrl-C"
        assert (tmp_path / "data" / "sandbox" / "trt.db").exists()

    def test_a_taken_port_exits_2_naming_the_option(self, trt: CliInvoke) -> None:
        """Another program on --port: a one-line error and exit code 2, no traceback."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = trt("serve", "--sandbox", "--port", str(port))
        assert result.exit_code == 2
        assert f"--port: cannot listen on 127.0.0.1:{port}" in result.output


class TestPage:
    async def test_an_empty_chat_says_to_type_start(self, sandbox: Sandbox) -> None:
        """The page opened on an empty chat with no hint; it now says to type /start (the
        chat script hides the hint once a message is there: see test_browser)."""
        async with ClientSession() as http, http.get(sandbox.url) as page:
            html = await page.text()
        assert 'id="empty-hint"' in html and "/start" in html
        async with ClientSession() as http, http.get(f"{sandbox.url}chat.js") as script:
            assert "empty-hint" in await script.text()
