"""Callback HMAC verification and each family's callback body."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from trt.domain import Family
from trt.kie.callbacks import (
    REPLAY_WINDOW,
    guess_family,
    parse_callback,
    sign,
    verify_and_parse,
    verify_signature,
)
from trt.kie.errors import KieCallbackRejected, KieSignatureRejected
from trt.kie.states import TaskState

MARKET_OK: dict[str, Any] = {
    "code": 200,
    "data": {
        "completeTime": 1755599644000,
        "consumeCredits": 100,
        "costTime": 8,
        "createTime": 1755599634000,
        "model": "nano-banana-pro",
        "param": '{"model":"nano-banana-pro","input":{"prompt":"x"}}',
        "remainedCredits": 2510330,
        "resultJson": '{"resultUrls":["https://example.com/generated-image.jpg"]}',
        "state": "success",
        "taskId": "e989621f54392584b05867f87b160672",
        "updateTime": 1755599644000,
    },
    "msg": "Playground task completed successfully.",
}
MARKET_FAIL = {
    "code": 501,
    "data": {
        "completeTime": 1755597081000,
        "consumeCredits": 0,
        "createTime": 1755596341000,
        "failCode": "500",
        "failMsg": "Internal server error",
        "model": "nano-banana-pro",
        "state": "fail",
        "taskId": "bd3a37c523149e4adf45a3ddb5faf1a8",
    },
    "msg": "Playground task failed.",
}
VEO_OK = {
    "code": 200,
    "msg": "Veo3.1 video generated successfully.",
    "data": {
        "taskId": "veo_task_abcdef123456",
        "promptJson": '{"model":"veo3_fast","prompt":"cat"}',
        "info": {"resultUrls": ["http://example.com/video1.mp4"], "resolution": "1080p"},
        "fallbackFlag": False,
    },
}
VEO_FAIL = {
    "code": 400,
    "msg": "Your prompt was flagged by Website as violating content policies.",
    "data": {"taskId": "veo_task_abcdef123456", "fallbackFlag": False},
}


def suno(kind: str, code: int = 200) -> dict[str, object]:
    tracks = [{"id": "1", "audio_url": "https://example.cn/1.mp3"}]
    data = None if kind == "error" else tracks
    return {
        "code": code,
        "msg": "m",
        "data": {"callbackType": kind, "task_id": "2fac", "data": data},
    }


def raw(payload: object) -> bytes:
    return json.dumps(payload).encode()


class TestSignature:
    def test_documented_test_vector(self):
        """The signature matches the vector derived from KIE's formula."""
        assert sign("task_123", "1700000000", "test-key") == (
            "vc6fR3ljA8XbRHkFOSxDBl5yOXh3WN2KfMSSRSB5cbg="
        )

    def test_valid_signature_is_accepted(self):
        """A correct signature within the window passes."""
        signature = sign("t1", "1700000000", "k")
        verify_signature(
            task_id="t1", timestamp="1700000000", signature=signature, key="k", now=1700000010
        )

    @pytest.mark.parametrize(
        ("task_id", "timestamp", "key"),
        [("t2", "1700000000", "k"), ("t1", "1700000001", "k"), ("t1", "1700000000", "other")],
        ids=["task-id", "timestamp", "key"],
    )
    def test_any_changed_input_is_rejected(self, task_id, timestamp, key):
        """Changing the task id, the timestamp or the key breaks the signature."""
        signature = sign("t1", "1700000000", "k")
        with pytest.raises(KieSignatureRejected, match="does not match"):
            verify_signature(
                task_id=task_id, timestamp=timestamp, signature=signature, key=key, now=1700000000
            )

    @pytest.mark.parametrize("offset", [REPLAY_WINDOW + 1, -(REPLAY_WINDOW + 1)])
    def test_stale_or_future_timestamp_is_rejected(self, offset):
        """A timestamp outside the replay window either way is rejected even if signed."""
        stamp = "1700000000"
        with pytest.raises(KieSignatureRejected, match="replay window"):
            verify_signature(
                task_id="t",
                timestamp=stamp,
                signature=sign("t", stamp, "k"),
                key="k",
                now=1700000000 + offset,
            )

    def test_edge_of_window_is_accepted(self):
        """A timestamp exactly at the window's edge is accepted."""
        stamp = "1700000000"
        verify_signature(
            task_id="t",
            timestamp=stamp,
            signature=sign("t", stamp, "k"),
            key="k",
            now=1700000000 + REPLAY_WINDOW,
        )

    @pytest.mark.parametrize(
        ("timestamp", "signature", "reason"),
        [(None, "s", "missing"), ("1", None, "missing"), ("soon", "s", "not an integer")],
    )
    def test_missing_or_bad_headers(self, timestamp, signature, reason):
        """Missing headers or a non-integer timestamp are rejected."""
        with pytest.raises(KieSignatureRejected, match=reason):
            verify_signature(task_id="t", timestamp=timestamp, signature=signature, key="k")

    @pytest.mark.parametrize(
        ("timestamp", "signature"),
        [("9" * 4000, "AAAA"), ("\u0661\u0662", "AAAA"), ("1700000000", "\udcff\udcfe")],
    )
    def test_hostile_headers_are_rejected_not_crashed_on(self, timestamp, signature):
        """A timestamp past float range, non-ASCII digits, or undecodable signature bytes
        (aiohttp's surrogate escapes) are a rejection, not an OverflowError/UnicodeError."""
        with pytest.raises(KieSignatureRejected):
            verify_signature(
                task_id="t", timestamp=timestamp, signature=signature, key="k", now=1700000000
            )

    def test_a_task_id_with_a_lone_surrogate_only_mismatches(self):
        """Signing a forged task id that is no Unicode text does not raise."""
        with pytest.raises(KieSignatureRejected, match="does not match"):
            verify_signature(
                task_id="\ud800",
                timestamp="100",
                signature=sign("t", "100", "k"),
                key="k",
                now=100,
            )


class TestVerifyAndParse:
    def test_signed_callback_passes(self):
        """A signed Market callback verifies against data.taskId and parses."""
        stamp = "1755599650"
        headers = {
            "X-Webhook-Timestamp": stamp,
            "X-Webhook-Signature": sign(MARKET_OK["data"]["taskId"], stamp, "k"),
        }
        callback = verify_and_parse(raw(MARKET_OK), headers, key="k", now=1755599650)
        assert callback.state is TaskState.SUCCESS

    def test_suno_signs_task_id_with_underscore(self):
        """A Suno callback is verified against data.task_id."""
        headers = {"X-Webhook-Timestamp": "100", "X-Webhook-Signature": sign("2fac", "100", "k")}
        callback = verify_and_parse(raw(suno("complete")), headers, key="k", now=100)
        assert callback.task_id == "2fac"

    def test_unsigned_callback_rejected_when_key_set(self):
        """With a key configured, an unsigned callback is rejected for its signature."""
        with pytest.raises(KieSignatureRejected):
            verify_and_parse(raw(MARKET_OK), {}, key="k")

    def test_an_unreadable_body_is_rejected_before_its_signature(self):
        """A body that is not a callback is rejected as such, not as a bad signature."""
        with pytest.raises(KieCallbackRejected) as caught:
            verify_and_parse(b"{oops", {}, key="k")
        assert not isinstance(caught.value, KieSignatureRejected)

    def test_no_key_means_no_check(self):
        """Without a key, callbacks are only parsed."""
        assert (
            verify_and_parse(raw(MARKET_OK), {}, key=None).task_id == MARKET_OK["data"]["taskId"]
        )


class TestParseCallback:
    @pytest.mark.parametrize(
        "body",
        [
            b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            b'{"code": 200, "data": {"taskId": "\xff"}}',
            b'{"code": 200, "data": {"taskId": "\\ud800", "state": "success"}}',
            json.dumps({"code": 200, "data": {"taskId": "t" * 10_000}}).encode(),
        ],
    )
    def test_unparsable_or_forged_bodies_are_rejected(self, body):
        """Deep nesting, bytes that are not UTF-8 and task ids no KIE task has are rejected."""
        with pytest.raises(KieCallbackRejected):
            parse_callback(body)

    def test_market_success(self):
        """A Market success callback carries URLs and the task's record with credits."""
        callback = parse_callback(raw(MARKET_OK))
        assert callback.family is Family.MARKET
        assert (callback.state, callback.code) == (TaskState.SUCCESS, 200)
        assert callback.result_urls == ("https://example.com/generated-image.jpg",)
        assert callback.record is not None
        assert callback.record.credits_consumed == 100
        assert callback.final

    def test_market_failure(self):
        """A Market failure callback carries the fail code."""
        callback = parse_callback(raw(MARKET_FAIL))
        assert (callback.state, callback.fail_code, callback.code) == (TaskState.FAIL, "500", 501)

    def test_veo_success(self):
        """A Veo success callback reads info.resultUrls."""
        callback = parse_callback(raw(VEO_OK))
        assert callback.family is Family.VEO
        assert callback.result_urls == ("http://example.com/video1.mp4",)

    def test_veo_string_urls(self):
        """Veo's OpenAPI variant with URL lists as strings is read too."""
        body = json.loads(json.dumps(VEO_OK))
        body["data"]["info"]["resultUrls"] = "[http://example.com/video1.mp4]"
        assert parse_callback(raw(body)).result_urls == ("http://example.com/video1.mp4",)

    def test_veo_failure(self):
        """A Veo failure callback is final with its code as the fail code."""
        callback = parse_callback(raw(VEO_FAIL))
        assert (callback.state, callback.fail_code) == (TaskState.FAIL, "400")

    @pytest.mark.parametrize(
        ("kind", "state", "final"),
        [
            ("text", TaskState.GENERATING, False),
            ("first", TaskState.GENERATING, False),
            ("complete", TaskState.SUCCESS, True),
            ("error", TaskState.FAIL, True),
        ],
    )
    def test_suno_stages(self, kind, state, final):
        """Suno's text/first stages are progress; complete and error are final."""
        callback = parse_callback(raw(suno(kind, 200 if kind != "error" else 501)))
        assert (callback.family, callback.stage, callback.state, callback.final) == (
            Family.SUNO,
            kind,
            state,
            final,
        )

    def test_explicit_family_wins(self):
        """A family given by the caller is used instead of guessing."""
        assert parse_callback(raw(VEO_OK), Family.VEO).family is Family.VEO

    @pytest.mark.parametrize(
        ("data", "family"),
        [
            ({"callbackType": "x"}, Family.SUNO),
            ({"info": {}}, Family.VEO),
            ({"state": "x"}, Family.MARKET),
        ],
    )
    def test_guess_family(self, data, family):
        """The family is guessed from the callback's shape."""
        assert guess_family(data) is family

    @pytest.mark.parametrize("body", [b"nope", b"[]", b'{"code": 200}', b'{"data": {}}'])
    def test_unreadable_bodies_are_rejected(self, body):
        """Bodies that are not callbacks raise KieCallbackRejected."""
        with pytest.raises(KieCallbackRejected):
            parse_callback(body)


class TestConsumedCredits:
    def test_a_market_success_states_what_kie_charged(self):
        """consumeCredits of a success is the task's real cost (recordInfo lacks it)."""
        assert parse_callback(raw(MARKET_OK)).consumed_credits == Decimal(100)

    @pytest.mark.parametrize("payload", [MARKET_FAIL, VEO_OK, VEO_FAIL])
    def test_failures_and_other_families_state_nothing(self, payload):
        """A failure's 0 is no cost of a result, and Veo's callback carries no figure."""
        assert parse_callback(raw(payload)).consumed_credits is None
