"""Just enough of the Chrome DevTools Protocol to drive Debian's headless Chromium from a
test: start it, open a tab, evaluate scripts, wait on the DOM, take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=900,1000", "--hide-scrollbars",
)  # fmt: skip
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")

# Resolves with the condition's first truthy value, re-checked on every DOM change and
# every resource load; rejects after the bound. No polling from the test's side.
_WAIT = """new Promise((resolve, reject) => {
  const check = () => { try { return (%s); } catch (e) { return null; } };
  const done = (value) => { observer.disconnect(); clearTimeout(timer);
    document.removeEventListener("load", recheck, true); resolve(value); };
  const recheck = () => { const value = check(); if (value) done(value); };
  const observer = new MutationObserver(recheck);
  const timer = setTimeout(() => { observer.disconnect();
    reject(new Error("timed out waiting for: " + %s)); }, %d);
  observer.observe(document, {subtree: true, childList: true, attributes: true,
                              characterData: true});
  document.addEventListener("load", recheck, true);
  recheck();
})"""


class Tab:
    """One page target, spoken to over its own websocket."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.errors: list[str] = []  # uncaught exceptions in the page
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            waiter = self._pending.pop(data.get("id", -1), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)
            elif data.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(data["params"]["exceptionDetails"])[:500])

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        waiter = self._pending[number] = asyncio.get_running_loop().create_future()
        await self.ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
        answer = await asyncio.wait_for(waiter, 60)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return dict(answer["result"])

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise AssertionError(details.get("exception", {}).get("description", details))
        return result["result"].get("value")

    async def wait_for(self, condition: str, within: float = 20.0) -> Any:
        """The first truthy value of the JS `condition`, within `within` seconds."""
        script = _WAIT % (condition, json.dumps(condition), int(within * 1000))
        return await self.evaluate(script)

    async def goto(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete' && location.href")

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Tab]:
    """Headless Chromium with a fresh profile, and one blank tab in it."""
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        endpoint = await asyncio.wait_for(_devtools(process), 30)
        drain = asyncio.create_task(_drain(process))
        async with ClientSession() as http:
            async with http.put(f"http://{endpoint}/json/new?about:blank") as answer:
                target = await answer.json()
            ws = await http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
            tab = Tab(ws)
            await tab.call("Runtime.enable")
            await tab.call("Page.enable")
            try:
                yield tab
            finally:
                await tab.close()
        drain.cancel()
    finally:
        process.terminate()
        await process.wait()


async def _devtools(process: asyncio.subprocess.Process) -> str:
    """host:port of the DevTools endpoint, from the line Chromium prints when it is ready."""
    assert process.stderr is not None
    lines: list[str] = []
    while line := (await process.stderr.readline()).decode(errors="replace"):
        lines.append(line)
        found = _LISTENING.search(line)
        if found:
            return found.group(1).split("/")[2]
    raise RuntimeError("Chromium exited before DevTools listened:\n" + "".join(lines[-20:]))


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stderr is not None
    while await process.stderr.readline():  # a full pipe would block Chromium
        pass
