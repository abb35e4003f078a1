"""Each family's task record (recordInfo / record-info ``data``) as one `TaskRecord`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trt.domain import Family
from trt.kie.base import TaskRecord
from trt.kie.errors import KieBadResponse, KieNotFound
from trt.kie.parse import (
    decimal_or_none,
    json_field,
    parse_time,
    task_id_of,
    text_or_none,
    url_list,
)
from trt.kie.states import TaskState, market_state, suno_state, veo_state


def parse_record(family: Family, data: object) -> TaskRecord:
    """The record in a successful query answer.

    Raises: KieNotFound for ``data: null`` (KIE's "record is null"), KieBadResponse for a
    ``data`` that is not an object.
    """
    if data is None:
        raise KieNotFound(200, 422, "record is null")
    if not isinstance(data, Mapping):
        raise KieBadResponse(200, json.dumps(data, default=str)[:500], "record is not an object")
    return _PARSERS[family](data)


def market_record(data: Mapping[str, Any]) -> TaskRecord:
    result = json_field(data.get("resultJson"))
    urls: tuple[str, ...] = ()
    if isinstance(result, Mapping):
        urls = url_list(result.get("resultUrls"))
    urls = urls or url_list(data.get("resultUrls"))
    return TaskRecord(
        task_id=task_id_of(data),
        family=Family.MARKET,
        state=market_state(data.get("state")),
        result_urls=urls,
        fail_code=text_or_none(data.get("failCode")),
        fail_message=text_or_none(data.get("failMsg")),
        credits_consumed=decimal_or_none(data.get("consumeCredits", data.get("creditsConsumed"))),
        created_at=parse_time(data.get("createTime")),
        completed_at=parse_time(data.get("completeTime")),
        raw=dict(data),
    )


def veo_record(data: Mapping[str, Any]) -> TaskRecord:
    response = data.get("response")
    urls: tuple[str, ...] = ()
    if isinstance(response, Mapping):
        urls = url_list(response.get("resultUrls"))
    # The Veo quickstart reads a JSON string at data.resultUrls (an older shape).
    urls = urls or url_list(data.get("resultUrls"))
    state = veo_state(data.get("successFlag"))
    return TaskRecord(
        task_id=task_id_of(data),
        family=Family.VEO,
        state=state,
        result_urls=urls,
        fail_code=text_or_none(data.get("errorCode")) if state is TaskState.FAIL else None,
        fail_message=text_or_none(data.get("errorMessage")),
        created_at=parse_time(data.get("createTime")),
        completed_at=parse_time(data.get("completeTime")),
        raw=dict(data),
    )


def suno_record(data: Mapping[str, Any]) -> TaskRecord:
    response = data.get("response")
    tracks = response.get("sunoData") if isinstance(response, Mapping) else None
    urls = suno_audio_urls(tracks)
    state = suno_state(data.get("status"))
    if (
        state is TaskState.FAIL
        and urls
        and str(data.get("status")).upper() == ("CALLBACK_EXCEPTION")
    ):
        # Only the delivery of KIE's callback failed; the music exists and was paid for.
        state = TaskState.SUCCESS
    return TaskRecord(
        task_id=task_id_of(data),
        family=Family.SUNO,
        state=state,
        result_urls=urls if state is TaskState.SUCCESS else (),
        fail_code=text_or_none(data.get("errorCode")),
        fail_message=text_or_none(data.get("errorMessage")),
        created_at=parse_time(data.get("createTime")) or _first_track_time(tracks),
        completed_at=parse_time(data.get("completeTime")),
        raw=dict(data),
    )


def _first_track_time(tracks: object) -> datetime | None:
    # Suno's record has no createTime of its own in the docs; its tracks do.
    if isinstance(tracks, list) and tracks and isinstance(tracks[0], Mapping):
        return parse_time(tracks[0].get("createTime"))
    return None


def suno_audio_urls(tracks: object) -> tuple[str, ...]:
    """Audio URLs from Suno track lists in either spelling (record camelCase, callback
    snake_case)."""
    if not isinstance(tracks, list):
        return ()
    urls: list[str] = []
    for track in tracks:
        if isinstance(track, Mapping):
            url = track.get("audioUrl") or track.get("audio_url")
            if isinstance(url, str) and url:
                urls.append(url)
    return tuple(urls)


_PARSERS = {Family.MARKET: market_record, Family.VEO: veo_record, Family.SUNO: suno_record}
