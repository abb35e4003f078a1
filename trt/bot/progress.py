"""The status message of a job: its text per state, and how often it may be edited."""

from __future__ import annotations

import time
from collections.abc import Callable

from trt.bot.texts import Texts
from trt.domain import JobState
from trt.records import JobRecord

MIN_EDIT_INTERVAL = 3.0  # seconds between edits of one status message (final ones excepted)
FINAL = frozenset({JobState.SUCCEEDED, JobState.DELIVERED, JobState.FAILED, JobState.RELEASED})
KEYS = {
    JobState.QUOTED: "progress.queued",
    JobState.HELD: "progress.queued",
    JobState.SUBMITTING: "progress.queued",
    JobState.SUBMITTED: "progress.submitted",
    JobState.RUNNING: "progress.running",
    JobState.SUCCEEDED: "progress.succeeded",
    JobState.DELIVERED: "progress.delivered",
    JobState.FAILED: "progress.failed",
    JobState.RELEASED: "progress.failed",
}
ACTIONS = {"image": "upload_photo", "video": "upload_video", "audio": "upload_voice"}


def status_text(t: Texts, job: JobRecord, title: str) -> str:
    return t(KEYS[job.state], title=title, price=job.price_stars)


class Throttle:
    """Edits a status message at most every MIN_EDIT_INTERVAL, but never skips a final state."""

    def __init__(
        self, interval: float = MIN_EDIT_INTERVAL, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}

    def due(self, job: JobRecord) -> bool:
        now = self._clock()
        if job.state in FINAL:
            self._last.pop(job.id, None)
            return True
        if now - self._last.get(job.id, -self.interval) < self.interval:
            return False
        self._last[job.id] = now
        return True
