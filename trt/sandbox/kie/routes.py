"""The emulator's HTTP endpoints (API.md §1–§4), over an `Emulator`'s state."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from trt.kie import wire
from trt.kie.base import Family
from trt.kie.states import TaskState
from trt.sandbox.kie import media
from trt.sandbox.kie.emulation import DEFAULT_MESSAGES, Fault, Route

if TYPE_CHECKING:
    from trt.sandbox.kie.emulator import Emulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EmuHandler = Callable[["Emulator", web.Request], Awaitable[web.StreamResponse]]

VEO_MODELS = frozenset({"veo3", "veo3_fast", "veo3_lite"})
SUNO_MODELS = frozenset({"V3_5", "V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5"})
MAX_UPLOAD = 200 * 1024 * 1024


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(payload).encode(), status=status, content_type="application/json"
    )


def ok(data: object) -> web.Response:
    return _json({"code": 200, "msg": "success", "data": data})


def error(code: int, message: str | None = None, *, http_status: int = 200) -> web.Response:
    text = message or DEFAULT_MESSAGES.get(code, "error")
    return _json({"code": code, "msg": text, "data": None}, http_status)


def upload_error(code: int, message: str | None = None) -> web.Response:
    text = message or DEFAULT_MESSAGES.get(code, "error")
    return _json({"success": False, "code": code, "msg": text})


def build_app(emu: Emulator) -> web.Application:
    """The aiohttp application serving `emu`."""
    app = web.Application(client_max_size=MAX_UPLOAD)
    add = app.router.add_route
    add("POST", wire.CREATE_PATH[Family.MARKET], _api(emu, "create", _create_market))
    add("POST", wire.CREATE_PATH[Family.VEO], _api(emu, "create", _create_veo))
    add("POST", wire.CREATE_PATH[Family.SUNO], _api(emu, "create", _create_suno))
    for family, path in wire.RECORD_PATH.items():
        add("GET", path, _api(emu, "record", _record_handler(family)))
    add("GET", wire.VEO_1080P_PATH, _api(emu, "veo_1080p", _veo_1080p))
    add("GET", wire.CREDITS_PATH, _api(emu, "credits", _credits))
    add("POST", wire.DOWNLOAD_URL_PATH, _api(emu, "download_url", _download_url))
    add("POST", wire.UPLOAD_BASE64_PATH, _api(emu, "upload", _upload_base64, upload=True))
    add("POST", wire.UPLOAD_STREAM_PATH, _api(emu, "upload", _upload_stream, upload=True))
    add("GET", "/files/uploads/{path:.+}", _with(emu, _uploaded_file))
    add("GET", "/files/{task_id}/{name}", _with(emu, _result_file))
    return app


def _with(emu: Emulator, handler: EmuHandler) -> Handler:
    async def bound(request: web.Request) -> web.StreamResponse:
        return await handler(emu, request)

    return bound


def _api(emu: Emulator, route: Route, handler: EmuHandler, *, upload: bool = False) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        emu.requests.append((request.method, request.path))
        if not emu.authorised(request):
            if upload:
                return upload_error(401, "Authentication failed: Invalid API Key")
            return error(401)
        fault = emu.take_fault(route)
        if fault is not None:
            answer = await _fault(emu, fault, upload=upload)
            if answer is not None:
                return answer
        return await handler(emu, request)

    return guarded


async def _fault(emu: Emulator, fault: Fault, *, upload: bool) -> web.Response | None:
    if fault.delay:
        await emu.pause(fault.delay)
    if fault.malformed:
        return web.Response(
            body=b'{"code": 200, "msg": "success", "data": {"taskI',
            status=fault.http_status,
            content_type="application/json",
        )
    if fault.code is None:
        return None
    if upload:
        return upload_error(fault.code, fault.message)
    return error(fault.code, fault.message, http_status=fault.http_status)


async def _body(request: web.Request) -> dict[str, Any] | None:
    try:
        value = await request.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _create(
    emu: Emulator, family: Family, model: str, body: dict[str, Any]
) -> web.StreamResponse:
    if emu.rate_limited():
        # Getting Started §8: over-limit creations are rejected with HTTP 429, not queued.
        return error(429, "Rate limit exceeded: max 20 requests per 10 seconds", http_status=429)
    if emu.credits < emu.options.task_cost:
        return error(402, "Credits insufficient")
    return ok({"taskId": emu.create(family, model, body)})


async def _create_market(emu: Emulator, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    if body is None:
        return error(422, "request body is not a JSON object")
    model, params = body.get("model"), body.get("input")
    if not isinstance(model, str) or not model:
        return error(422, "model is required")
    if not isinstance(params, dict):
        return error(422, "input is required")
    return await _create(emu, Family.MARKET, model, body)


async def _create_veo(emu: Emulator, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    if body is None:
        return error(422, "request body is not a JSON object")
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return error(422, "prompt is required")
    model = body.setdefault("model", "veo3_fast")
    if model not in VEO_MODELS:
        return error(422, f"model must be one of {sorted(VEO_MODELS)}")
    return await _create(emu, Family.VEO, str(model), body)


async def _create_suno(emu: Emulator, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    if body is None:
        return error(422, "request body is not a JSON object")
    problem = _suno_problem(body)
    if problem:
        return error(422, problem)
    return await _create(emu, Family.SUNO, str(body["model"]), body)


def _suno_problem(body: dict[str, Any]) -> str | None:
    if body.get("model") not in SUNO_MODELS:
        return f"model must be one of {sorted(SUNO_MODELS)}"
    custom, instrumental = body.get("customMode"), body.get("instrumental")
    if not isinstance(custom, bool) or not isinstance(instrumental, bool):
        return "customMode and instrumental are required booleans"
    if not body.get("callBackUrl"):
        return "callBackUrl is required"
    needed = ["style", "title"] if custom else ["prompt"]
    if custom and not instrumental:
        needed.append("prompt")
    missing = [name for name in needed if not body.get(name)]
    return f"{', '.join(missing)} required" if missing else None


def _record_handler(family: Family) -> EmuHandler:
    async def record(emu: Emulator, request: web.Request) -> web.StreamResponse:
        task_id = request.query.get("taskId", "")
        if not task_id:
            return error(400, "taskId parameter is required", http_status=400)
        task = emu.tasks.get(task_id)
        if task is None or task.family is not family:
            if emu.options.unknown_task == "404":
                return error(404, "Task not found", http_status=404)
            return error(422, "recordInfo is null")
        task.reads += 1
        if task.reads <= emu.options.null_record_reads:  # KIE's answer right after creation
            return error(422, "recordInfo is null")
        return ok(emu.record(task))

    return record


async def _veo_1080p(emu: Emulator, request: web.Request) -> web.StreamResponse:
    task = emu.tasks.get(request.query.get("taskId", ""))
    if task is None or task.family is not Family.VEO:
        return error(422, "record is null")
    if emu.view(task).state is not TaskState.SUCCESS:
        return error(422, "record status is not success")
    ready = task.done_at(emu.options.schedule) + emu.options.veo_1080p_after
    if emu.clock.now() < ready:
        return error(400, "1080P is processing. It should be ready in 1-2 minutes.")
    return ok({"resultUrl": f"{emu.base_url}/files/{task.task_id}/1080p.mp4"})


async def _credits(emu: Emulator, request: web.Request) -> web.StreamResponse:
    return ok(int(emu.credits))


async def _download_url(emu: Emulator, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    url = body.get("url") if body else None
    if not isinstance(url, str) or not url.startswith(f"{emu.base_url}/files/"):
        return error(422, "external URLs are not supported")
    return ok(f"{url}?expires={int(time.time()) + 20 * 60}")


async def _upload_base64(emu: Emulator, request: web.Request) -> web.StreamResponse:
    body = await _body(request) or {}
    data = body.get("base64Data")
    if not body.get("uploadPath"):
        return upload_error(400, "Missing required parameter: uploadPath")
    if not isinstance(data, str):
        return upload_error(400, "Missing required parameter: base64Data")
    mime = "application/octet-stream"
    if data.startswith("data:") and "," in data:
        header, data = data.split(",", 1)
        mime = header[5:].split(";", 1)[0] or mime
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return upload_error(400, "Base64 decoding failed: Invalid Base64 format")
    return _stored(emu, str(body["uploadPath"]), body.get("fileName"), content, mime)


async def _upload_stream(emu: Emulator, request: web.Request) -> web.StreamResponse:
    form = await request.post()
    upload, path = form.get("file"), form.get("uploadPath")
    if not path:
        return upload_error(400, "Missing required parameter: uploadPath")
    if not isinstance(upload, web.FileField):
        return upload_error(400, "Missing required parameter: file")
    name = form.get("fileName") or upload.filename
    content = upload.file.read()
    mime = upload.content_type or "application/octet-stream"
    return _stored(emu, str(path), name, content, mime)


def _stored(
    emu: Emulator, upload_path: str, name: object, content: bytes, mime: str
) -> web.Response:
    file_name = str(name) if name else f"{emu.new_id()}.bin"
    file_path = f"{upload_path.strip('/')}/{file_name}"
    emu.files[file_path] = (content, mime)
    data = {
        "fileName": file_name,
        "filePath": file_path,
        "downloadUrl": f"{emu.base_url}/files/uploads/{file_path}",
        "fileSize": len(content),
        "mimeType": mime,
        "uploadedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return _json({"success": True, "code": 200, "msg": "File uploaded successfully", "data": data})


async def _uploaded_file(emu: Emulator, request: web.Request) -> web.StreamResponse:
    stored = emu.files.get(request.match_info["path"])
    if stored is None:
        raise web.HTTPNotFound
    content, mime = stored
    return web.Response(body=content, content_type=mime)


async def _result_file(emu: Emulator, request: web.Request) -> web.StreamResponse:
    task = emu.tasks.get(request.match_info["task_id"])
    kind = request.match_info["name"].rpartition(".")[2]
    if task is None or kind not in media.CONTENT_TYPES:
        raise web.HTTPNotFound
    if emu.view(task).state is not TaskState.SUCCESS:
        raise web.HTTPNotFound
    return web.Response(body=media.sample(kind), content_type=media.CONTENT_TYPES[kind])
