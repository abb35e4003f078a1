"""KIE's endpoints and request bodies, per family (API.md §2–§4). Pure."""

from __future__ import annotations

import base64
from typing import Any, Final

from trt.domain import Family
from trt.kie.base import CreateTask

CREATE_PATH: Final = {
    Family.MARKET: "/api/v1/jobs/createTask",
    Family.VEO: "/api/v1/veo/generate",
    Family.SUNO: "/api/v1/generate",
}
RECORD_PATH: Final = {
    Family.MARKET: "/api/v1/jobs/recordInfo",
    Family.VEO: "/api/v1/veo/record-info",
    Family.SUNO: "/api/v1/generate/record-info",
}
VEO_1080P_PATH: Final = "/api/v1/veo/get-1080p-video"
CREDITS_PATH: Final = "/api/v1/chat/credit"
DOWNLOAD_URL_PATH: Final = "/api/v1/common/download-url"
# On the upload host, not api.kie.ai.
UPLOAD_STREAM_PATH: Final = "/api/file-stream-upload"
UPLOAD_BASE64_PATH: Final = "/api/file-base64-upload"
DEFAULT_UPLOAD_PATH: Final = "trt/inputs"


def create_body(request: CreateTask) -> dict[str, Any]:
    """The JSON body of a creation request.

    Market wraps the parameters in ``input`` beside ``model``; Veo and Suno take their
    parameters at the top level with ``model`` among them.
    """
    if request.family is Family.MARKET:
        body: dict[str, Any] = {"model": request.model}
        if request.callback_url:
            body["callBackUrl"] = request.callback_url
        body["input"] = dict(request.input)
        return body
    body = {**request.input, "model": request.model}
    if request.callback_url:
        body["callBackUrl"] = request.callback_url
    return body


def base64_upload_body(name: str, content: bytes, mime: str, upload_path: str) -> dict[str, str]:
    """The JSON body of a base64 upload, as a data URL so KIE keeps the MIME type."""
    encoded = base64.b64encode(content).decode("ascii")
    return {
        "base64Data": f"data:{mime};base64,{encoded}",
        "uploadPath": upload_path,
        "fileName": name,
    }
