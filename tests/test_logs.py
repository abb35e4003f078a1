"""Operational event lines: one line each, text or JSON, secrets redacted, floods throttled."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from trt.logs import JsonFormatter, RedactSecrets, ThrottledEvents, log_event

SECRET = "callback-SECRET-77"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, logging.StreamHandler[io.StringIO]]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactSecrets([SECRET]))
    logger = logging.getLogger("tests.events")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, out, handler
    logger.removeHandler(handler)


class TestLogEvent:
    def test_text_line_names_the_event_and_its_fields(self, captured) -> None:
        """`event key=value …`, values with spaces quoted, None fields left out."""
        logger, out, handler = captured
        handler.setFormatter(logging.Formatter("%(message)s"))
        log_event(logger, "job_failed", job_id="j1", user_id=7, model="m/x",
                  reason="generation_failed: NSFW content", fail_code=None)  # fmt: skip
        assert out.getvalue() == (
            'job_failed job_id=j1 user_id=7 model=m/x reason="generation_failed: NSFW content"\n'
        )

    def test_json_line_carries_the_fields_as_keys(self, captured) -> None:
        logger, out, handler = captured
        handler.setFormatter(JsonFormatter())
        log_event(logger, "payment_credited", level=logging.WARNING, user_id=7, amount=100)
        line = json.loads(out.getvalue())
        assert (line["event"], line["user_id"], line["amount"]) == ("payment_credited", 7, 100)
        assert line["level"] == "warning"
        assert line["message"] == "payment_credited user_id=7 amount=100"

    def test_a_secret_in_a_field_is_redacted_in_json_too(self, captured) -> None:
        """The redacting filter reaches an event's fields, not only its message."""
        logger, out, handler = captured
        handler.setFormatter(JsonFormatter())
        log_event(logger, "delivery_failed", reason=f"GET https://x/{SECRET} failed")
        assert SECRET not in out.getvalue()
        assert json.loads(out.getvalue())["reason"] == "GET https://x/*** failed"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestThrottledEvents:
    def test_one_line_per_kind_per_interval_then_the_count_left_out(self, captured) -> None:
        """A flood of rejections logs once a minute per reason, saying how many it skipped."""
        logger, out, handler = captured
        handler.setFormatter(logging.Formatter("%(message)s"))
        clock = Clock()
        events = ThrottledEvents(logger, every=60, clock=clock)
        logged = [events.log("webhook_rejected", reason="wrong token") for _ in range(5)]
        assert logged == [True, False, False, False, False]
        assert events.log("webhook_rejected", reason="wrong path")  # another kind
        clock.now += 60
        assert events.log("webhook_rejected", reason="wrong token")
        assert out.getvalue().splitlines() == [
            'webhook_rejected reason="wrong token"',
            'webhook_rejected reason="wrong path"',
            'webhook_rejected reason="wrong token" left_out=4',
        ]
