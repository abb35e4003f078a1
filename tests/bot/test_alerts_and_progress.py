from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from trt.bot.alerts import FailureBurst
from trt.bot.progress import Throttle
from trt.domain import JobId, JobState, TgUserId
from trt.records import JobRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)
JOB = JobRecord(
    id=JobId("J1"), user_id=TgUserId(1), model_id="m", api_family="market", params={},
    state=JobState.RUNNING, price_stars=3, kie_credits=None, kie_task_id="t", request_key=None,
    chat_id=1, status_message_id=None, result_urls=(), result_file_id=None,
    error="generation_failed: x", deadline_at=None, next_check_at=None, delivery_attempts=0,
    created_at=NOW, updated_at=NOW,
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestFailureBurst:
    def test_alerts_once_when_the_count_is_reached_within_the_window(self) -> None:
        """Five failures within ten minutes alert once; the sixth does not alert again."""
        clock = Clock()
        burst = FailureBurst(5, 10, clock=clock)
        alerts = []
        for _ in range(6):
            clock.now += 30
            alerts.append(burst.record(JOB))
        assert [a is not None for a in alerts] == [False] * 4 + [True, False]
        assert "5 generations failed in the last 10 min" in (alerts[4] or "")

    def test_failures_spread_out_never_alert(self) -> None:
        """Failures further apart than the window never make a burst."""
        clock = Clock()
        burst = FailureBurst(3, 1, clock=clock)
        for _ in range(10):
            clock.now += 61
            assert burst.record(JOB) is None


class TestProgressThrottle:
    def test_edits_are_spaced_but_final_states_always_pass(self) -> None:
        """Within the interval a second running update is skipped; a final one is not."""
        clock = Clock()
        throttle = Throttle(3.0, clock=clock)
        assert throttle.due(JOB)
        clock.now += 1
        assert not throttle.due(JOB)
        assert throttle.due(replace(JOB, state=JobState.SUCCEEDED))
        clock.now += 3
        assert throttle.due(JOB)
