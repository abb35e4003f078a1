"""The chat page: four static files served beside the emulator's `/_emulator/` controls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from trt.sandbox.telegram.core import TelegramEmulator

PAGE_DIR = Path(__file__).with_name("page")
FILES = {
    "/": ("index.html", "text/html"),
    "/render.js": ("render.js", "text/javascript"),
    "/chat.js": ("chat.js", "text/javascript"),
    "/chat.css": ("chat.css", "text/css"),
}


def add_page_routes(app: web.Application, emu: TelegramEmulator) -> None:
    """Serve the chat page at `/` of the emulator's own address (one URL for everything)."""
    for route, (name, content_type) in FILES.items():
        app.router.add_get(route, _static(name, content_type))


def _static(name: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = (PAGE_DIR / name).read_bytes()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=body, content_type=content_type, charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    return serve
