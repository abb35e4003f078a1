"""The pure envelope parser: every error code in both transports, and KIE's loose fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trt.kie.errors import (
    KieBadResponse,
    KieFeatureDisabled,
    KieGenerationFailed,
    KieHTTPError,
    KieInsufficientCredits,
    KieMaintenance,
    KieNotFound,
    KieNotReady,
    KieRateLimited,
    KieServerError,
    KieUnauthorized,
    KieValidationError,
)
from trt.kie.parse import (
    decimal_or_none,
    json_field,
    parse_response,
    parse_time,
    retry_after_seconds,
    task_id_of,
    url_list,
)


def envelope(code: object, msg: str = "x", data: object = None, key: str = "msg") -> bytes:
    return json.dumps({"code": code, key: msg, "data": data}).encode()


ERROR_CODES = [
    (401, KieUnauthorized),
    (402, KieInsufficientCredits),
    (404, KieNotFound),
    (422, KieValidationError),
    (429, KieRateLimited),
    (455, KieMaintenance),
    (500, KieServerError),
    (501, KieGenerationFailed),
    (505, KieFeatureDisabled),
    (400, KieValidationError),
    (451, KieValidationError),
    (550, KieServerError),
    (503, KieServerError),
]


class TestParseResponseSuccess:
    def test_returns_data_of_a_success_envelope(self):
        """A code-200 envelope yields its data."""
        assert parse_response(200, envelope(200, "success", {"taskId": "t1"})) == {"taskId": "t1"}

    def test_accepts_message_instead_of_msg(self):
        """The `message` spelling of the envelope is accepted."""
        assert parse_response(200, envelope(200, "success", 7, key="message")) == 7

    def test_accepts_the_code_as_a_string(self):
        """A code sent as the string "200" counts as success."""
        assert parse_response(200, envelope("200", "ok", "u")) == "u"

    def test_upload_host_envelope_with_success_flag(self):
        """The upload host's envelope with `success: true` yields its data."""
        body = json.dumps({"success": True, "code": 200, "msg": "ok", "data": {"a": 1}})
        assert parse_response(200, body.encode()) == {"a": 1}

    def test_null_data_is_returned_as_none(self):
        """A success with `data: null` yields None (the record parser decides what it means)."""
        assert parse_response(200, envelope(200, "success", None)) is None


class TestParseResponseErrors:
    @pytest.mark.parametrize(("code", "cls"), ERROR_CODES)
    def test_code_in_an_http_200_body(self, code, cls):
        """A non-200 code inside an HTTP 200 body raises its class, keeping status and code."""
        with pytest.raises(cls) as info:
            parse_response(200, envelope(code, "told"))
        assert type(info.value) is cls
        assert (info.value.status, info.value.code, info.value.detail) == (200, code, "told")

    @pytest.mark.parametrize(("code", "cls"), ERROR_CODES)
    def test_http_status_with_an_envelope(self, code, cls):
        """An HTTP error status with an envelope raises the same class."""
        with pytest.raises(cls) as info:
            parse_response(code, envelope(code, "told"))
        assert type(info.value) is cls
        assert info.value.status == code

    @pytest.mark.parametrize(("code", "cls"), ERROR_CODES)
    def test_http_status_with_a_non_json_body(self, code, cls):
        """An HTTP error status with an HTML body still maps by status."""
        with pytest.raises(cls) as info:
            parse_response(code, b"<html>Bad Gateway</html>")
        assert type(info.value) is cls
        assert info.value.body == "<html>Bad Gateway</html>"

    def test_http_error_with_success_code_in_body_uses_the_status(self):
        """An HTTP 500 whose body claims code 200 is a server error."""
        with pytest.raises(KieServerError):
            parse_response(500, envelope(200, "success", {"taskId": "t"}))

    def test_record_is_null_means_not_found(self):
        """KIE's observed `422 recordInfo is null` is a KieNotFound, not a validation error."""
        with pytest.raises(KieNotFound):
            parse_response(200, envelope(422, "recordInfo is null"))

    def test_veo_1080p_processing_means_not_ready(self):
        """Veo's `400 1080P is processing` is a KieNotReady."""
        with pytest.raises(KieNotReady):
            parse_response(200, envelope(400, "1080P is processing. It should be ready soon."))

    def test_unknown_4xx_code_is_a_plain_http_error(self):
        """An undocumented 4xx code raises the KieHTTPError base, not a subclass."""
        with pytest.raises(KieHTTPError) as info:
            parse_response(200, envelope(418, "teapot"))
        assert type(info.value) is KieHTTPError

    def test_upload_host_failure_flag(self):
        """The upload host's `success: false` raises by its code."""
        body = {"success": False, "code": 400, "msg": "Missing required parameter: uploadPath"}
        with pytest.raises(KieValidationError, match="uploadPath"):
            parse_response(200, json.dumps(body).encode())

    @pytest.mark.parametrize(("status", "body"), [(429, b""), (200, envelope(429, "slow down"))])
    def test_retry_after_is_carried(self, status, body):
        """The Retry-After value given by the caller lands on KieRateLimited in both transports."""
        with pytest.raises(KieRateLimited) as info:
            parse_response(status, body, retry_after=3.0)
        assert info.value.retry_after == 3.0

    @pytest.mark.parametrize(
        "body",
        [b"", b"not json", b'{"code": 200, "msg": "success", "data": {"taskI', b"[1, 2]"],
    )
    def test_unreadable_http_200_is_a_bad_response(self, body):
        """An HTTP 200 that is not a JSON object raises KieBadResponse."""
        with pytest.raises(KieBadResponse):
            parse_response(200, body)

    def test_object_without_code_or_data_is_a_bad_response(self):
        """A JSON object with neither code nor data raises KieBadResponse."""
        with pytest.raises(KieBadResponse):
            parse_response(200, b'{"hello": "world"}')

    def test_message_is_the_one_line_meaning(self):
        """A 402's message starts with its meaning and quotes KIE's text on one line."""
        with pytest.raises(KieInsufficientCredits) as info:
            parse_response(200, envelope(402, "Credits\ninsufficient"))
        assert str(info.value) == (
            "the KIE account is out of credits (KIE 402: Credits insufficient)"
        )


class TestFieldHelpers:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ('{"resultUrls": ["a"]}', {"resultUrls": ["a"]}),
            ({"already": "parsed"}, {"already": "parsed"}),
            ("", None),
            ("[http://a/1.mp4, http://a/2.mp4]", ["http://a/1.mp4", "http://a/2.mp4"]),
        ],
    )
    def test_json_field(self, value, expected):
        """JSON-in-string fields decode; objects pass through; Veo's bracket strings split."""
        assert json_field(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (["a", "b"], ("a", "b")),
            ('["a"]', ("a",)),
            ("http://x/1.png", ("http://x/1.png",)),
            ([{"resultUrl": "m"}], ("m",)),
            (None, ()),
            ([None, ""], ()),
        ],
    )
    def test_url_list(self, value, expected):
        """URL lists arrive as lists, JSON strings, single strings or MJ objects."""
        assert url_list(value) == expected

    @pytest.mark.parametrize(
        ("data", "expected"),
        [({"taskId": "a"}, "a"), ({"task_id": "b"}, "b"), ({"taskId": 12}, "12")],
    )
    def test_task_id_of(self, data, expected):
        """Both `taskId` and `task_id` are read."""
        assert task_id_of(data) == expected

    @pytest.mark.parametrize("data", [{}, None, {"taskId": ""}, "t"])
    def test_task_id_missing(self, data):
        """An answer without a task id is a bad response."""
        with pytest.raises(KieBadResponse):
            task_id_of(data)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (1698765400000, datetime(2023, 10, 31, 15, 16, 40, tzinfo=UTC)),
            ("1698765400000", datetime(2023, 10, 31, 15, 16, 40, tzinfo=UTC)),
            (1698765400, datetime(2023, 10, 31, 15, 16, 40, tzinfo=UTC)),
            ("2025-06-06 10:30:00", datetime(2025, 6, 6, 10, 30, tzinfo=UTC)),
            ("2025-01-01T12:00:00.000Z", datetime(2025, 1, 1, 12, tzinfo=UTC)),
            (None, None),
            ("", None),
            (0, None),
            ("soon", None),
            (True, None),
        ],
    )
    def test_parse_time(self, value, expected):
        """Epoch ms, epoch s and date strings become aware UTC datetimes; junk becomes None."""
        assert parse_time(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(100, Decimal(100)), ("12.5", Decimal("12.5")), ("", None), (None, None), ("x", None)],
    )
    def test_decimal_or_none(self, value, expected):
        """Credit amounts parse from numbers and numeric strings."""
        assert decimal_or_none(value) == expected

    @pytest.mark.parametrize(
        ("header", "expected"), [("3", 3.0), ("0.5", 0.5), (None, None), ("Wed, 21", None)]
    )
    def test_retry_after_seconds(self, header, expected):
        """Retry-After in seconds is read; other forms are ignored."""
        assert retry_after_seconds(header) == expected
