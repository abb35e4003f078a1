"""The whole sandbox in-process on a free port, and `Chat`: one test user driving the chat
page's HTTP surface exactly as the page's script does (controls and the long poll)."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, FormData

from trt.bot.texts import text
from trt.sandbox.run import Sandbox, open_sandbox

Message = dict[str, Any]
Check = Callable[[Message], bool]


def png(width: int = 64, height: int = 48) -> bytes:
    """A small, valid PNG (one grey colour) that browsers and image probes can read."""
    raw = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


def en(key: str, **values: object) -> str:
    return text("en", key, **values)


def labels(message: Message) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in rows for button in row]


def has_button(label: str) -> Check:
    return lambda m: m["from_bot"] and not m["deleted"] and label in labels(m)


def has_button_starting(prefix: str) -> Check:
    return lambda m: (
        m["from_bot"] and not m["deleted"] and any(b.startswith(prefix) for b in labels(m))
    )


class Chat:
    """A browser tab of the chat page, as one test user, over real HTTP."""

    def __init__(self, http: ClientSession, url: str, user_id: int) -> None:
        self.http, self.url, self.user_id = http, url.rstrip("/"), user_id
        self.version = ""

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        async with self.http.request(method, f"{self.url}{path}", **kw) as answer:
            body = await answer.json()
            assert answer.status == 200, body
            return body

    async def state(self, version: str = "", wait: float = 0) -> dict[str, Any]:
        """The chat now (`wait` 0) or once it differs from `version` (the long poll)."""
        query = {"version": version, "timeout": str(wait)}
        return dict(await self._json("GET", f"/_emulator/chats/{self.user_id}/updates",
                                     params=query))  # fmt: skip

    async def send(self, body: str) -> None:
        await self._json("POST", f"/_emulator/users/{self.user_id}/messages", json={"text": body})

    async def upload(self, data: bytes, kind: str, name: str, caption: str | None = None) -> Any:
        form = FormData()
        form.add_field("kind", kind)
        if caption:
            form.add_field("caption", caption)
        form.add_field("file", io.BytesIO(data), filename=name, content_type="image/png")
        async with self.http.post(f"{self.url}/_emulator/users/{self.user_id}/files",
                                  data=form) as answer:  # fmt: skip
            return answer.status, await answer.json()

    async def click(self, message: Message, label: str) -> None:
        rows = message["reply_markup"]["inline_keyboard"]
        button = next(b for row in rows for b in row if b["text"] == label)
        press = {"message_id": message["message_id"], "callback_data": button["callback_data"]}
        await self._json("POST", f"/_emulator/users/{self.user_id}/clicks", json=press)

    async def wait_for(self, check: Check, within: float = 20.0) -> Message:
        """The first message passing `check`, long-polling for changes (bounded)."""
        async with asyncio.timeout(within):
            while True:
                chat = await self.state(self.version, wait=10)
                self.version = chat["version"]
                found = [m for m in chat["messages"] if check(m)]
                if found:
                    return dict(found[-1])

    async def next_screen(self, previous: Message, within: float = 20.0) -> Message:
        """The bot's next message with buttons, or `previous` once edited."""
        shown = (previous["message_id"], previous["edits"])

        def fresh(m: Message) -> bool:
            return bool(m["from_bot"] and not m["deleted"] and m.get("reply_markup")
                        and m["message_id"] >= shown[0]
                        and (m["message_id"], m["edits"]) != shown)  # fmt: skip

        return await self.wait_for(fresh, within)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    # These scripts click faster than any person: Telegram's flood limits (and the bot's
    # handling of 429) are the emulator's and the bot's own tests' business.
    async with open_sandbox(port=0, data_dir=tmp_path / "sandbox", flood_limits=False) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.fixture
def alice(sandbox: Sandbox, http: ClientSession) -> Chat:
    return Chat(http, sandbox.url, 1001)
