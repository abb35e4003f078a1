"""The emulator's HTTP surface: the Bot API, file downloads, and `/_emulator/` controls."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from trt.sandbox.telegram import methods_bot, methods_media, methods_messages, methods_payments
from trt.sandbox.telegram.controls import add_control_routes
from trt.sandbox.telegram.controls_chat import add_chat_routes
from trt.sandbox.telegram.errors import ApiError, bad_request, unauthorized
from trt.sandbox.telegram.model import MB, Call
from trt.sandbox.telegram.params import Params, read_params

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

MethodHandler = Callable[["TelegramEmulator", Params], Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Telegram matches method names case-insensitively.
METHODS: dict[str, tuple[str, MethodHandler]] = {
    name.lower(): (name, handler)
    for module in (methods_bot, methods_messages, methods_media, methods_payments)
    for name, handler in module.HANDLERS.items()
}


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


def build_app(emu: TelegramEmulator) -> web.Application:
    """The aiohttp application serving `emu`."""
    # Room above the upload limit for the other form fields; bigger bodies answer 413.
    app = web.Application(client_max_size=emu.options.upload_limit + MB)
    app.router.add_route("*", "/bot{token}/{method}", _api(emu))
    app.router.add_get("/file/bot{token}/{path:.+}", _download(emu))
    add_control_routes(app, emu)
    add_chat_routes(app, emu)
    return app


def _api(emu: TelegramEmulator) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        started = emu.clock.now()
        params: Params | None = None
        try:
            if not hmac.compare_digest(request.match_info["token"], emu.token):
                raise unauthorized()
            params = await read_params(request)
            entry = METHODS.get(name.lower())
            if entry is None:
                raise bad_request(f"method {name!r} is not known to the Telegram emulator")
            delay = emu.delays.get(name.lower())
            if delay:
                await asyncio.sleep(delay)
            result = await entry[1](emu, params)
        except web.HTTPRequestEntityTooLarge:
            return _refused(emu, name, started, params, ApiError(413, "Request Entity Too Large"))
        except ApiError as e:
            return _refused(emu, name, started, params, e)
        emu.record(Call(name, params.recorded(), started, True, result))
        return _json({"ok": True, "result": result})

    return serve


def _refused(
    emu: TelegramEmulator, name: str, started: float, params: Params | None, error: ApiError
) -> web.Response:
    recorded = params.recorded() if params is not None else {}
    emu.record(Call(name, recorded, started, False, None, error.code, error.description))
    return _json(error.envelope(), status=error.code)


def _download(emu: TelegramEmulator) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        if not hmac.compare_digest(request.match_info["token"], emu.token):
            return _json(unauthorized().envelope(), status=401)
        stored = emu.files.by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    return serve
