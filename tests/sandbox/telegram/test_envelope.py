"""The Bot API's wire format: URLs, bodies, the response envelope and recorded calls."""

from __future__ import annotations

import asyncio
import io

import pytest
from aiohttp import ClientSession, FormData

from tests.sandbox.telegram.conftest import call
from trt.sandbox.telegram import TelegramEmulator, run_telegram_emulator


class TestEnvelope:
    async def test_success_is_ok_with_result(self, tg: TelegramEmulator, http: ClientSession):
        """A successful call answers 200 with ``ok`` and ``result``."""
        status, body = await call(http, tg, "getMe")
        assert status == 200 and body["ok"] is True and body["result"]["is_bot"] is True

    async def test_wrong_token_is_401(self, tg: TelegramEmulator, http: ClientSession):
        """Any token but the emulator's answers 401 Unauthorized."""
        async with http.post(f"{tg.base_url}/bot1:wrong/getMe") as answer:
            assert answer.status == 401
            assert await answer.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }

    async def test_unknown_method_is_400_naming_it(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """An unknown method is a 400 whose description names it, never a success."""
        status, body = await call(http, tg, "sendSticker", chat_id=1, sticker="x")
        assert (status, body["ok"], body["error_code"]) == (400, False, 400)
        assert "'sendSticker'" in body["description"]
        assert tg.calls[-1].ok is False and tg.calls[-1].method == "sendSticker"

    async def test_method_names_are_case_insensitive(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """Telegram matches method names in any letter case, and so does the emulator."""
        status, _ = await call(http, tg, "GETME")
        assert status == 200

    async def test_get_with_query_parameters(self, tg: TelegramEmulator, http: ClientSession):
        """GET with query parameters works like a POST."""
        tg.user(5)
        url = f"{tg.base_url}/bot{tg.token}/sendMessage"
        async with http.get(url, params={"chat_id": "5", "text": "hi"}) as answer:
            assert answer.status == 200
        assert tg.chat(5).last().text == "hi"

    async def test_form_body_with_json_fields(self, tg: TelegramEmulator, http: ClientSession):
        """Form values carry JSON-serialized objects such as reply_markup, as aiogram sends."""
        tg.user(5)
        form = {
            "chat_id": "5",
            "text": "pick",
            "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
        }
        async with http.post(f"{tg.base_url}/bot{tg.token}/sendMessage", data=form) as answer:
            assert answer.status == 200
        assert tg.chat(5).last().buttons()[0].callback_data == "a"
        assert tg.calls[-1].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"

    async def test_missing_parameter_is_400(self, tg: TelegramEmulator, http: ClientSession):
        """A required parameter left out is a 400 that names it."""
        status, body = await call(http, tg, "getFile")
        assert status == 400 and "file_id" in body["description"]

    async def test_unknown_chat_is_400(self, tg: TelegramEmulator, http: ClientSession):
        """Sending to a chat the emulator does not know is 'chat not found'."""
        _, body = await call(http, tg, "sendMessage", chat_id=999, text="x")
        assert body["description"] == "Bad Request: chat not found"


class TestUploadLimits:
    async def test_upload_over_the_limit_is_413(self, http: ClientSession):
        """An upload bigger than the upload limit is refused with 413, as Telegram does."""
        async with run_telegram_emulator(upload_limit=1000) as tg:
            tg.user(5)
            form = FormData()
            form.add_field("chat_id", "5")
            form.add_field("document", io.BytesIO(b"x" * 1001), filename="big.bin")
            url = f"{tg.base_url}/bot{tg.token}/sendDocument"
            async with http.post(url, data=form) as answer:
                assert answer.status == 413
                assert (await answer.json())["description"] == "Request Entity Too Large"

    async def test_body_beyond_the_server_limit_is_413(self, http: ClientSession):
        """A body far over the limit is cut off by the server with the same 413 envelope."""
        async with run_telegram_emulator(upload_limit=10) as tg:
            form = FormData()
            form.add_field("chat_id", "5")
            form.add_field("document", io.BytesIO(b"x" * (2 * 1024 * 1024)), filename="big.bin")
            url = f"{tg.base_url}/bot{tg.token}/sendDocument"
            async with http.post(url, data=form) as answer:
                assert answer.status == 413
                assert (await answer.json())["error_code"] == 413

    async def test_photo_over_its_limit_is_refused(self, http: ClientSession):
        """A photo over the photo limit is a 400 even when it fits the upload limit."""
        async with run_telegram_emulator(photo_limit=100) as tg:
            tg.user(5)
            form = FormData()
            form.add_field("chat_id", "5")
            form.add_field("photo", io.BytesIO(b"x" * 101), filename="p.jpg")
            async with http.post(f"{tg.base_url}/bot{tg.token}/sendPhoto", data=form) as answer:
                assert answer.status == 400

    async def test_get_file_over_the_download_limit_is_refused(self, http: ClientSession):
        """getFile refuses a file over the download limit with 'file is too big'."""
        async with run_telegram_emulator(download_limit=10) as tg:
            user = tg.user(5)
            sent = await tg.send_document(user, b"x" * 11, file_name="a.bin")
            assert sent.file is not None
            _, body = await call(http, tg, "getFile", file_id=sent.file.file_id)
            assert body["description"] == "Bad Request: file is too big"

    async def test_download_of_unknown_path_is_404(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """A file path the emulator never handed out is 404."""
        async with http.get(f"{tg.base_url}/file/bot{tg.token}/photos/nope.jpg") as answer:
            assert answer.status == 404


class TestRecording:
    async def test_every_call_is_recorded_with_parsed_params(
        self, tg: TelegramEmulator, http: ClientSession
    ):
        """Calls are recorded in order with their parsed parameters and outcome."""
        tg.user(5)
        await call(http, tg, "sendMessage", chat_id=5, text="one")
        await call(http, tg, "sendMessage", chat_id=5, text="")
        first, second = tg.calls_to("sendMessage")
        assert (first.ok, first.params["text"], first.result["text"]) == (True, "one", "one")
        assert (second.ok, second.error_code, second.description) == (
            False,
            400,
            "Bad Request: message text is empty",
        )

    async def test_wait_for_wakes_on_a_call(self, tg: TelegramEmulator, http: ClientSession):
        """wait_for returns the predicate's value as soon as a matching call is recorded."""
        waiting = asyncio.create_task(tg.wait_for_call("getMe"))
        await call(http, tg, "getMe")
        assert (await waiting).ok is True

    async def test_wait_for_times_out(self, tg: TelegramEmulator):
        """wait_for raises TimeoutError when nothing matches within the guard."""
        with pytest.raises(TimeoutError):
            await tg.wait_for(lambda calls: calls, timeout=0.01)
