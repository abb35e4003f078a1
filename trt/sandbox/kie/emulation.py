"""The emulator's model of KIE, without HTTP: tasks, their schedule and their JSON shapes.

`trt.sandbox.kie.emulator` serves these over aiohttp. Times come from a clock the emulator
owns (`RealClock`, or `ManualClock` that tests move forward), so a test decides when a task
finishes instead of sleeping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from trt.kie.base import Family
from trt.kie.states import TaskState

Route = Literal["create", "record", "credits", "download_url", "veo_1080p", "upload", "any"]


@dataclass(frozen=True)
class Schedule:
    """Seconds after creation at which a task enters each state; final at `done_after`."""

    queuing_after: float = 0.5
    generating_after: float = 1.0
    done_after: float = 3.0

    def state_at(self, elapsed: float) -> TaskState:
        if elapsed < self.queuing_after:
            return TaskState.WAITING
        if elapsed < self.generating_after:
            return TaskState.QUEUING
        return TaskState.GENERATING


@dataclass(frozen=True)
class Fault:
    """One injected failure: a KIE ``code`` in an HTTP 200 body (the usual transport), or
    with ``http_status`` set, at the HTTP level too; optionally late or malformed.
    ``code=None`` with a ``delay`` is a slow but correct answer."""

    code: int | None = 500
    http_status: int = 200
    message: str | None = None
    delay: float = 0.0  # real seconds before answering (slow responses, client timeouts)
    malformed: bool = False  # a cut-off JSON body


@dataclass(frozen=True)
class CallbackPlan:
    """How a task's completion callbacks are delivered."""

    copies: int = 1  # >1 duplicates each callback, as KIE may
    drop: bool = False  # never send (the reconciler must notice)
    extra_delay: float = 0.0  # on top of the emulator's callback delay


@dataclass(frozen=True)
class TaskPlan:
    """What the next created task will do, overriding the schedule and the fail rate."""

    outcome: Literal["success", "fail"] = "success"
    fail_code: str = "500"
    fail_message: str = "Internal server error"
    callbacks: CallbackPlan = field(default_factory=CallbackPlan)


DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "You do not have access permissions",
    402: "Credits insufficient",
    404: "Not found",
    422: "Validation error",
    429: "Rate limit exceeded",
    455: "Service unavailable: system maintenance",
    500: "Internal server error",
    501: "Generation failed",
    505: "Feature disabled",
}


@dataclass
class EmulatedTask:
    task_id: str
    family: Family
    model: str
    param: dict[str, Any]
    callback_url: str | None
    created: float  # emulator clock
    created_wall: float  # epoch seconds, for KIE's timestamps
    plan: TaskPlan
    cost: Decimal
    result_urls: tuple[str, ...] = ()
    forced: TaskState | None = None
    finished: float | None = None  # emulator clock, when forced final
    notified: bool = False
    reads: int = 0  # recordInfo queries answered so far

    def done_at(self, schedule: Schedule) -> float:
        return self.finished if self.finished is not None else self.created + schedule.done_after

    def state(self, now: float, schedule: Schedule) -> TaskState:
        if self.forced is not None:
            return self.forced
        if now >= self.done_at(schedule):
            return TaskState.SUCCESS if self.plan.outcome == "success" else TaskState.FAIL
        return schedule.state_at(now - self.created)


def media_kind(family: Family, model: str, params: dict[str, Any]) -> str:
    """Which sample file a model's result is (an extension of `media.CONTENT_TYPES`)."""
    if family is Family.VEO:
        return "mp4"
    if family is Family.SUNO:
        return "mp3"
    name = model.lower()
    if any(w in name for w in ("video", "veo", "kling", "sora", "hailuo", "seedance", "wan/")):
        return "mp4"
    if any(w in name for w in ("audio", "speech", "tts", "music", "sound", "eleven")):
        return "mp3"
    fmt = str(params.get("output_format", "")).lower()
    return "jpg" if fmt in ("jpg", "jpeg") else "png"


def _code(text: str) -> int:
    return int(text) if text.isdigit() else 500


def _ms(epoch: float | None) -> int | None:
    return None if epoch is None else int(epoch * 1000)


def _date(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class View:
    """A task at one moment: what both its record and its callback are made from."""

    task: EmulatedTask
    state: TaskState
    completed_wall: float | None

    @property
    def ok(self) -> bool:
        return self.state is TaskState.SUCCESS


def record_json(view: View) -> dict[str, Any]:
    """The ``data`` of the family's record query."""
    return _RECORDS[view.task.family](view)


def _market_record(view: View) -> dict[str, Any]:
    task = view.task
    final = view.state.is_final
    return {
        "taskId": task.task_id,
        "model": task.model,
        "state": str(view.state),
        "param": json.dumps(task.param),
        "resultJson": json.dumps({"resultUrls": list(task.result_urls)}) if view.ok else "",
        "failCode": task.plan.fail_code if view.state is TaskState.FAIL else "",
        "failMsg": task.plan.fail_message if view.state is TaskState.FAIL else "",
        "costTime": int(((view.completed_wall or 0) - task.created_wall) * 1000) if final else 0,
        "completeTime": _ms(view.completed_wall),
        "createTime": _ms(task.created_wall),
        "updateTime": _ms(view.completed_wall or task.created_wall),
    }


def _veo_record(view: View) -> dict[str, Any]:
    task = view.task
    flag = {TaskState.SUCCESS: 1, TaskState.FAIL: 3}.get(view.state, 0)
    response = None
    if view.ok:
        urls = list(task.result_urls)
        response = {
            "taskId": task.task_id,
            "resultUrls": urls,
            "originUrls": [],
            "resolution": "720p",
        }
    failed = view.state is TaskState.FAIL
    return {
        "taskId": task.task_id,
        "paramJson": json.dumps(task.param),
        "completeTime": _date(view.completed_wall),
        "response": response,
        "successFlag": flag,
        "errorCode": _code(task.plan.fail_code) if failed else None,
        "errorMessage": task.plan.fail_message if failed else "",
        "createTime": _date(task.created_wall),
        "fallbackFlag": False,
    }


_SUNO_STATUS = {
    TaskState.WAITING: "PENDING",
    TaskState.QUEUING: "PENDING",
    TaskState.GENERATING: "TEXT_SUCCESS",
    TaskState.SUCCESS: "SUCCESS",
    TaskState.FAIL: "GENERATE_AUDIO_FAILED",
}


def suno_tracks(task: EmulatedTask, *, snake: bool) -> list[dict[str, Any]]:
    """Suno's track list; the record spells keys in camelCase, the callback in snake_case."""
    tracks = []
    for index, url in enumerate(task.result_urls):
        track = {
            "id": f"{task.task_id}-{index}",
            "audioUrl": url,
            "streamAudioUrl": url,
            "imageUrl": url.rsplit("/", 1)[0] + f"/cover{index}.jpg",
            "prompt": str(task.param.get("prompt", "")),
            "modelName": "chirp-v4",
            "title": str(task.param.get("title", "Emulated song")),
            "tags": str(task.param.get("style", "")),
            "createTime": _date(task.created_wall),
            "duration": 0.5,
        }
        tracks.append({_snake(k): v for k, v in track.items()} if snake else track)
    return tracks


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _suno_record(view: View) -> dict[str, Any]:
    task = view.task
    failed = view.state is TaskState.FAIL
    return {
        "taskId": task.task_id,
        "parentMusicId": "",
        "param": json.dumps(task.param),
        "response": {
            "taskId": task.task_id,
            "sunoData": suno_tracks(task, snake=False) if view.ok else [],
        },
        "status": _SUNO_STATUS[view.state],
        "type": "chirp-v4",
        "operationType": "generate",
        "errorCode": _code(task.plan.fail_code) if failed else None,
        "errorMessage": task.plan.fail_message if failed else None,
    }


_RECORDS = {Family.MARKET: _market_record, Family.VEO: _veo_record, Family.SUNO: _suno_record}


def _credits(amount: Decimal) -> int | float:
    """KIE's JSON number: whole credits as an integer, fractions as they are."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def callback_bodies(view: View, remained: Decimal) -> list[dict[str, Any]]:
    """The callbacks a finished task sends, in KIE's order (Suno: text, first, complete)."""
    task = view.task
    if task.family is Family.MARKET:
        data = _market_record(view)
        data["consumeCredits"] = _credits(task.cost) if view.ok else 0
        data["remainedCredits"] = int(remained)
        if view.ok:
            return [{"code": 200, "msg": "Playground task completed successfully.", "data": data}]
        del data["resultJson"]
        return [{"code": 501, "msg": "Playground task failed.", "data": data}]
    if task.family is Family.VEO:
        if not view.ok:
            return [
                {
                    "code": _code(task.plan.fail_code),
                    "msg": task.plan.fail_message,
                    "data": {"taskId": task.task_id, "fallbackFlag": False},
                }
            ]
        info = {"resultUrls": list(task.result_urls), "originUrls": [], "resolution": "720p"}
        data = {
            "taskId": task.task_id,
            "promptJson": json.dumps(task.param),
            "info": info,
            "fallbackFlag": False,
        }
        return [{"code": 200, "msg": "Veo3.1 video generated successfully.", "data": data}]
    return _suno_callbacks(view)


def _suno_callbacks(view: View) -> list[dict[str, Any]]:
    task = view.task
    if not view.ok:
        return [
            {
                "code": _code(task.plan.fail_code),
                "msg": task.plan.fail_message,
                "data": {"callbackType": "error", "task_id": task.task_id, "data": None},
            }
        ]
    tracks = suno_tracks(task, snake=True)
    stages = [
        ("text", "Text generated successfully.", [{**t, "audio_url": ""} for t in tracks]),
        ("first", "First track generated successfully.", tracks[:1]),
        ("complete", "All generated successfully.", tracks),
    ]
    return [
        {
            "code": 200,
            "msg": msg,
            "data": {"callbackType": kind, "task_id": task.task_id, "data": data},
        }
        for kind, msg, data in stages
    ]
