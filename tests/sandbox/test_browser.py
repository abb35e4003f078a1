"""The chat page in headless Chromium (Debian's package, driven over DevTools): /start,
the catalogue, one image model, Generate, and the picture on screen. The screenshot is
kept (TRT_ARTIFACTS_DIR, else the test's folder) and is the README's docs/sandbox.png."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.sandbox.cdp import CHROMIUM, Tab, chromium
from tests.sandbox.conftest import en
from tests.sandbox.test_flows import PROMPT
from trt.sandbox.run import Sandbox

if not CHROMIUM.exists() and os.environ.get("CI") != "true":
    pytest.skip(
        f"{CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )  # with CI=true the test runs and fails instead: CI must have a browser

BOT_BUTTONS = "[...document.querySelectorAll('.msg.bot .kb button')]"


def button(label: str) -> str:
    return f"{BOT_BUTTONS}.find(b => b.textContent === {json.dumps(label)})"


def button_starting(prefix: str) -> str:
    return f"{BOT_BUTTONS}.find(b => b.textContent.startsWith({json.dumps(prefix)}))"


def first_model() -> str:
    listing = json.dumps("Choose a model")
    found = (
        f"[...document.querySelectorAll('.msg.bot')].find(m => m.textContent.includes({listing}))"
    )
    return f"{found}?.querySelector('.kb button')"


async def press(tab: Tab, element: str) -> None:
    """Wait until `element` (a JS expression) exists, then click it."""
    await tab.wait_for(f"!!({element})")
    await tab.evaluate(f"({element}).click()")


async def type_and_send(tab: Tab, text: str) -> None:
    await tab.evaluate(f"document.getElementById('text').value = {json.dumps(text)};"
                       "document.getElementById('composer').requestSubmit()")  # fmt: skip


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TRT_ARTIFACTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class TestChatPage:
    async def test_start_walk_to_an_image_model_and_see_the_image(
        self, sandbox: Sandbox, tmp_path: Path
    ) -> None:
        """A person's path: /start, Images, the first model, Start, a prompt, 🚀, the picture."""
        async with chromium(tmp_path / "profile") as tab:
            await tab.call("Emulation.setDeviceMetricsOverride", width=900, height=1000,
                           deviceScaleFactor=1, mobile=False)  # fmt: skip
            await tab.goto(sandbox.url)
            await tab.wait_for("document.querySelector('#user option')")
            assert await tab.evaluate("document.querySelector('.badge').textContent") == "SANDBOX"
            await tab.wait_for("!document.getElementById('empty-hint').hidden")  # says /start
            await type_and_send(tab, "/start")
            await tab.wait_for("document.getElementById('empty-hint').hidden")
            await press(tab, button(en("category.text-to-image")))
            await press(tab, first_model())
            await press(tab, button(en("button.start")))
            await tab.wait_for(f"!!({button(en('button.reset'))})")
            await type_and_send(tab, PROMPT)
            await press(tab, button_starting("🚀"))
            size = await tab.wait_for(
                "[...document.querySelectorAll('.msg.bot img')]"
                ".map(i => i.complete && i.naturalWidth).find(w => w > 0)",
                within=40,
            )
            assert size > 0
            await tab.evaluate("new Promise(done => requestAnimationFrame(() => {"
                               "document.getElementById('messages').scrollTop = 1e9;"
                               "requestAnimationFrame(done); }))")  # fmt: skip
            shot = artifacts(tmp_path) / "sandbox.png"
            await tab.screenshot(shot)
            assert tab.errors == []
        assert shot.read_bytes().startswith(b"\x89PNG")
        shutil.copy(shot, tmp_path / "kept.png")  # pytest keeps recent tmp folders too
