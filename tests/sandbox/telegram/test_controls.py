"""The Telegram emulator's controls for the chat page, without a bot: users, commands,
uploads and their limits, files, and the long poll."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession, FormData

from tests.sandbox.conftest import png
from trt.sandbox.telegram import TelegramEmulator, run_telegram_emulator

MB = 1024 * 1024


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    async with run_telegram_emulator(upload_limit=MB, photo_limit=MB // 2) as emu:
        emu.user(7, first_name="Ann", language_code="ru")
        yield emu


def form(data: bytes, kind: str) -> FormData:
    body = FormData()
    body.add_field("kind", kind)
    body.add_field("file", io.BytesIO(data), filename="f.png", content_type="image/png")
    return body


class TestUsersAndBot:
    async def test_users_and_commands_for_a_language(
        self, tg: TelegramEmulator, http: ClientSession
    ) -> None:
        """The user list, and the commands the bot set for Russian (falling back to default)."""
        commands = {"commands": [{"command": "start", "description": "Старт"}]}
        await http.post(f"{tg.base_url}/bot{tg.token}/setMyCommands",
                        json={**commands, "language_code": "ru"})  # fmt: skip
        async with http.get(f"{tg.base_url}/_emulator/users") as answer:
            assert [(u["id"], u["language_code"]) for u in await answer.json()] == [(7, "ru")]
        async with http.get(f"{tg.base_url}/_emulator/bot?language_code=ru") as answer:
            bot = await answer.json()
        assert bot["commands"] == commands["commands"] and bot["limits"]["upload"] == MB
        async with http.get(f"{tg.base_url}/_emulator/bot?language_code=en") as answer:
            assert (await answer.json())["commands"] == []


class TestUploads:
    @pytest.mark.parametrize(
        ("size", "kind", "status"),
        [(MB // 2 + 1, "photo", 400), (MB + 1, "document", 413), (3 * MB, "document", 413)],
    )
    async def test_over_the_limits_is_refused(
        self, tg: TelegramEmulator, http: ClientSession, size: int, kind: str, status: int
    ) -> None:
        """Photos over the photo limit are 400; any file over the upload limit is 413."""
        url = f"{tg.base_url}/_emulator/users/7/files"
        async with http.post(url, data=form(b"\x89PNG" + bytes(size), kind)) as answer:
            assert answer.status == status
            assert "MB" in (await answer.json())["error"]
        assert tg.updates.sent == []

    async def test_an_upload_becomes_an_update_and_its_file_is_served(
        self, tg: TelegramEmulator, http: ClientSession
    ) -> None:
        """A photo from the page reaches the bot as a message; its bytes are served back."""
        image = png(30, 20)
        async with http.post(f"{tg.base_url}/_emulator/users/7/files",
                             data=form(image, "photo")) as answer:  # fmt: skip
            sent = await answer.json()
        assert sent["photo"][-1]["width"] == 30 and tg.updates.sent[0]["message"]["photo"]
        async with http.get(f"{tg.base_url}{sent['file']['url']}") as file:
            assert await file.read() == image

    async def test_an_unknown_user_is_404(self, tg: TelegramEmulator, http: ClientSession) -> None:
        """Uploading as a user the emulator does not know is a 404 naming the id."""
        async with http.post(f"{tg.base_url}/_emulator/users/99/files",
                             data=form(png(), "photo")) as answer:  # fmt: skip
            assert answer.status == 404 and "99" in (await answer.json())["error"]


class TestLongPoll:
    async def test_it_wakes_for_a_bot_message_and_an_edit(
        self, tg: TelegramEmulator, http: ClientSession
    ) -> None:
        """A waiting poll answers when the bot sends or edits, with a new version."""
        url = f"{tg.base_url}/_emulator/chats/7/updates"
        async with http.get(url, params={"timeout": "0"}) as answer:
            first = await answer.json()
        waiting = asyncio.create_task(http.get(url, params={"version": first["version"]}))
        await tg.notifier.until(lambda: tg.notifier._wakers, 5, "the poll to wait")
        api = f"{tg.base_url}/bot{tg.token}"
        await http.post(f"{api}/sendMessage", json={"chat_id": 7, "text": "<b>hi</b>",
                                                    "parse_mode": "HTML"})  # fmt: skip
        second = await (await waiting).json()
        assert second["version"] != first["version"]
        assert second["messages"][0]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
        await http.post(f"{api}/editMessageText",
                        json={"chat_id": 7, "message_id": 1, "text": "bye"})  # fmt: skip
        async with http.get(url, params={"version": second["version"]}) as answer:
            assert (await answer.json())["messages"][0]["edits"] == 1

    async def test_it_answers_the_same_state_after_its_timeout(
        self, tg: TelegramEmulator, http: ClientSession
    ) -> None:
        """Nothing new within `timeout`: the same version comes back and the page asks again."""
        url = f"{tg.base_url}/_emulator/chats/7/updates"
        async with http.get(url, params={"timeout": "0"}) as answer:
            version = (await answer.json())["version"]
        async with http.get(url, params={"version": version, "timeout": "0.05"}) as answer:
            assert (await answer.json())["version"] == version
