"""Each family's record and status vocabulary, normalised into one TaskRecord."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trt.domain import Family
from trt.kie.errors import KieBadResponse, KieNotFound
from trt.kie.records import parse_record
from trt.kie.states import TaskState, market_state, suno_state, veo_state

MARKET_SUCCESS = {
    "taskId": "task_12345678",
    "model": "grok-imagine/text-to-image",
    "state": "success",
    "param": '{"model":"grok-imagine/text-to-image","input":{"prompt":"x"}}',
    "resultJson": '{"resultUrls":["https://example.com/generated-content.jpg"]}',
    "failCode": "",
    "failMsg": "",
    "costTime": 15000,
    "completeTime": 1698765432000,
    "createTime": 1698765400000,
    "updateTime": 1698765432000,
}
MARKET_FAIL = {
    **MARKET_SUCCESS,
    "state": "fail",
    "resultJson": "",
    "failCode": "422",
    "failMsg": "Invalid prompt: prompt contains prohibited content",
}
VEO_SUCCESS = {
    "taskId": "veo_task_abcdef123456",
    "paramJson": '{"prompt":"A futuristic city"}',
    "completeTime": "2025-06-06 10:30:00",
    "response": {
        "taskId": "veo_task_abcdef123456",
        "resultUrls": ["http://example.com/video1.mp4"],
        "originUrls": ["http://example.com/original_video1.mp4"],
        "resolution": "1080p",
    },
    "successFlag": 1,
    "errorCode": None,
    "errorMessage": "",
    "createTime": "2025-06-06 10:25:00",
    "fallbackFlag": False,
}
SUNO_SUCCESS = {
    "taskId": "5c79be8e",
    "param": "{}",
    "response": {
        "taskId": "5c79be8e",
        "sunoData": [
            {"id": "1", "audioUrl": "https://example.cn/1.mp3", "title": "a"},
            {"id": "2", "audioUrl": "https://example.cn/2.mp3", "title": "b"},
        ],
    },
    "status": "SUCCESS",
    "errorCode": None,
    "errorMessage": None,
}


class TestMarketRecord:
    def test_success(self):
        """A Market success yields its result URLs, state and epoch-ms times."""
        record = parse_record(Family.MARKET, MARKET_SUCCESS)
        assert record.task_id == "task_12345678"
        assert record.state is TaskState.SUCCESS
        assert record.result_urls == ("https://example.com/generated-content.jpg",)
        assert (record.fail_code, record.fail_message) == (None, None)
        assert record.created_at == datetime(2023, 10, 31, 15, 16, 40, tzinfo=UTC)
        assert record.completed_at == datetime(2023, 10, 31, 15, 17, 12, tzinfo=UTC)
        assert record.raw["model"] == "grok-imagine/text-to-image"

    def test_failure(self):
        """A Market failure yields its fail code and message and no URLs."""
        record = parse_record(Family.MARKET, MARKET_FAIL)
        assert record.state is TaskState.FAIL
        assert record.result_urls == ()
        assert record.fail_code == "422"
        assert record.fail_message == "Invalid prompt: prompt contains prohibited content"

    def test_callback_credit_fields(self):
        """`consumeCredits` (callback data) becomes credits_consumed."""
        record = parse_record(Family.MARKET, {**MARKET_SUCCESS, "consumeCredits": 100})
        assert record.credits_consumed == Decimal(100)

    def test_text_output_has_no_urls(self):
        """A `resultObject` (text output) leaves result_urls empty."""
        data = {**MARKET_SUCCESS, "resultJson": json.dumps({"resultObject": {"text": "hi"}})}
        assert parse_record(Family.MARKET, data).result_urls == ()

    def test_null_record_is_not_found(self):
        """`data: null` on a record query raises KieNotFound."""
        with pytest.raises(KieNotFound):
            parse_record(Family.MARKET, None)

    def test_non_object_record_is_a_bad_response(self):
        """A record that is not an object raises KieBadResponse."""
        with pytest.raises(KieBadResponse):
            parse_record(Family.MARKET, ["x"])


class TestVeoRecord:
    def test_success(self):
        """A Veo success reads response.resultUrls and date-string times."""
        record = parse_record(Family.VEO, VEO_SUCCESS)
        assert record.state is TaskState.SUCCESS
        assert record.result_urls == ("http://example.com/video1.mp4",)
        assert record.created_at == datetime(2025, 6, 6, 10, 25, tzinfo=UTC)
        assert record.fail_code is None

    def test_quickstart_shape(self):
        """The older shape with a JSON string at data.resultUrls is read too."""
        data = {**VEO_SUCCESS, "response": None, "resultUrls": '["http://e/v.mp4"]'}
        assert parse_record(Family.VEO, data).result_urls == ("http://e/v.mp4",)

    def test_generation_failed(self):
        """successFlag 3 is a failure carrying errorCode and errorMessage."""
        data = {
            **VEO_SUCCESS,
            "successFlag": 3,
            "response": None,
            "errorCode": 501,
            "errorMessage": "generation failed",
        }
        record = parse_record(Family.VEO, data)
        assert (record.state, record.fail_code) == (TaskState.FAIL, "501")
        assert record.fail_message == "generation failed"


class TestSunoRecord:
    def test_success(self):
        """A Suno success lists every track's audio URL."""
        record = parse_record(Family.SUNO, SUNO_SUCCESS)
        assert record.state is TaskState.SUCCESS
        assert record.result_urls == ("https://example.cn/1.mp3", "https://example.cn/2.mp3")

    def test_created_at_falls_back_to_the_first_track(self):
        """Without a record createTime, the first track's date string is used."""
        data = {
            **SUNO_SUCCESS,
            "response": {"sunoData": [{"audioUrl": "u", "createTime": "2025-01-01 00:00:00"}]},
        }
        assert parse_record(Family.SUNO, data).created_at == datetime(2025, 1, 1, tzinfo=UTC)

    def test_callback_exception_with_tracks_is_a_success(self):
        """CALLBACK_EXCEPTION with finished tracks counts as a success: the music exists."""
        record = parse_record(Family.SUNO, {**SUNO_SUCCESS, "status": "CALLBACK_EXCEPTION"})
        assert record.state is TaskState.SUCCESS

    def test_failure(self):
        """SENSITIVE_WORD_ERROR is a failure without URLs."""
        data = {
            **SUNO_SUCCESS,
            "status": "SENSITIVE_WORD_ERROR",
            "errorCode": 400,
            "errorMessage": "bad words",
        }
        record = parse_record(Family.SUNO, data)
        assert (record.state, record.result_urls, record.fail_code) == (TaskState.FAIL, (), "400")


class TestStates:
    @pytest.mark.parametrize(
        ("word", "state"),
        [
            ("waiting", TaskState.WAITING),
            ("wait", TaskState.WAITING),
            ("queuing", TaskState.QUEUING),
            ("queueing", TaskState.QUEUING),
            ("generating", TaskState.GENERATING),
            ("SUCCESS", TaskState.SUCCESS),
            ("fail", TaskState.FAIL),
        ],
    )
    def test_market_words(self, word, state):
        """Market and Runway spellings map to the internal states."""
        assert market_state(word) is state

    @pytest.mark.parametrize(
        ("flag", "state"),
        [
            (0, TaskState.GENERATING),
            (1, TaskState.SUCCESS),
            (2, TaskState.FAIL),
            (3, TaskState.FAIL),
            ("1", TaskState.SUCCESS),
            (None, TaskState.WAITING),
        ],
    )
    def test_veo_flags(self, flag, state):
        """Veo successFlag values map to the internal states."""
        assert veo_state(flag) is state

    @pytest.mark.parametrize(
        ("status", "state"),
        [
            ("PENDING", TaskState.WAITING),
            ("TEXT_SUCCESS", TaskState.GENERATING),
            ("FIRST_SUCCESS", TaskState.GENERATING),
            ("SUCCESS", TaskState.SUCCESS),
            ("CREATE_TASK_FAILED", TaskState.FAIL),
            ("GENERATE_AUDIO_FAILED", TaskState.FAIL),
            ("SENSITIVE_WORD_ERROR", TaskState.FAIL),
            ("SOME_NEW_FAILED", TaskState.FAIL),
        ],
    )
    def test_suno_words(self, status, state):
        """Suno statuses map to the internal states; any *_FAILED is a failure."""
        assert suno_state(status) is state

    def test_unknown_word_is_generating_with_a_warning(self, caplog):
        """An unknown status keeps polling alive (generating) and logs a warning."""
        with caplog.at_level(logging.WARNING):
            assert market_state("teleporting") is TaskState.GENERATING
        assert "teleporting" in caplog.text

    @pytest.mark.parametrize("state", list(TaskState))
    def test_is_final(self, state):
        """Only success and fail are final."""
        assert state.is_final == (state in (TaskState.SUCCESS, TaskState.FAIL))
