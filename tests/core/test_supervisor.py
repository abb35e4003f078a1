"""The supervisor every serve loop runs under: failures logged once per episode, backoff,
recovery, and tasks that end being noticed and restarted."""

from __future__ import annotations

import asyncio
import logging

import pytest

from trt.core.supervisor import Backoff, Supervisor, describe
from trt.errors import DatabaseUnavailable


def outage() -> DatabaseUnavailable:
    return DatabaseUnavailable("db.example:5432/trt", "connection refused")


class Script:
    """A step that fails `failures` times, then succeeds; `calls` counts attempts and
    `reached(n)` waits until the n-th attempt happened."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or outage()
        self.calls = 0
        self._changed = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        self._changed.set()
        if self.calls <= self.failures:
            raise self.error

    async def reached(self, calls: int) -> None:
        async with asyncio.timeout(5):
            while self.calls < calls:
                self._changed.clear()
                await self._changed.wait()


def lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


@pytest.fixture
async def supervisor():
    supervisor = Supervisor(backoff_start=0.001, backoff_cap=0.002, settled_after=0.05)
    yield supervisor
    await supervisor.stop()


class TestEvery:
    async def test_an_outage_is_logged_once_and_its_end_once(self, supervisor, caplog):
        """Twenty failed attempts in a row make one warning, then one recovery line."""
        caplog.set_level(logging.INFO)
        step = Script(failures=20)
        supervisor.every("reconciler", step, interval=0.001)
        await step.reached(22)
        assert len(lines(caplog, "reconciler failing: DatabaseUnavailable")) == 1
        assert len(lines(caplog, "reconciler recovered after 20 failed attempts")) == 1
        assert not [r for r in caplog.records if r.exc_info]  # an outage: no traceback

    async def test_failing_names_the_task_until_it_works_again(self, supervisor):
        """/health's list: the task is named while it fails and dropped once it succeeds."""
        gate = asyncio.Event()

        async def step() -> None:
            if not gate.is_set():
                raise outage()

        supervisor.every("inbox recovery", step, interval=0.001)
        async with asyncio.timeout(5):
            while supervisor.failing() != ["inbox recovery"]:  # noqa: ASYNC110 - no event
                await asyncio.sleep(0.001)
        gate.set()
        async with asyncio.timeout(5):
            while supervisor.failing():  # noqa: ASYNC110 - the task signals nothing
                await asyncio.sleep(0.001)

    async def test_a_bug_is_logged_with_its_traceback_once(self, supervisor, caplog):
        """An unexpected exception keeps the task alive and shows its traceback once."""
        step = Script(failures=5, error=KeyError("x"))
        supervisor.every("pruning", step, interval=0.001)
        await step.reached(7)
        failures = [r for r in caplog.records if "pruning failing" in r.getMessage()]
        # As a reader sees it: the redacting filter may have folded the traceback into the
        # message already (when installed by an earlier test), else the formatter adds it.
        assert len(failures) == 1
        assert "Traceback (most recent call last)" in logging.Formatter().format(failures[0])


class TestUntilDone:
    async def test_retries_until_one_success_logging_each_attempt(self, supervisor, caplog):
        """A start-up call (setWebhook) is retried until it succeeds, one line per failed
        attempt, never a traceback; then it is not called again."""
        caplog.set_level(logging.INFO)
        step = Script(failures=3, error=ConnectionError("Cannot connect to host api"))
        supervisor.until_done("telegram setWebhook", step, every_attempt=True)
        await step.reached(4)
        async with asyncio.timeout(5):
            while supervisor.running("telegram setWebhook"):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        assert step.calls == 4
        attempts = lines(caplog, "telegram setWebhook: attempt")
        assert [a.split(" failed")[0] for a in attempts] == [
            f"telegram setWebhook: attempt {n}" for n in (1, 2, 3)
        ]
        assert not [r for r in caplog.records if r.exc_info]


class TestKeepRunning:
    async def test_a_body_that_ends_is_noticed_and_restarted(self, supervisor, caplog):
        """A loop that returns before shutdown is reported and started again."""
        body = Script(failures=0)
        supervisor.keep_running("telegram polling", body)
        await body.reached(3)
        assert lines(caplog, "telegram polling failing: TaskEnded")

    async def test_a_body_that_raises_is_restarted_and_recovers(self, supervisor, caplog):
        """After a crash the body runs again; once it stays up it counts as recovered."""
        caplog.set_level(logging.INFO)
        forever = asyncio.Event()
        crashes = 2

        async def body() -> None:
            nonlocal crashes
            if crashes:
                crashes -= 1
                raise outage()
            await forever.wait()

        supervisor.keep_running("worker", body)
        async with asyncio.timeout(5):
            while not lines(caplog, "worker recovered"):  # noqa: ASYNC110 - log is the signal
                await asyncio.sleep(0.005)
        assert supervisor.failing() == []
        assert len(lines(caplog, "worker failing")) == 1

    async def test_stop_cancels_bodies_without_raising(self):
        """Shutdown cancels every task and never raises what one of them raised."""
        supervisor = Supervisor()
        started = asyncio.Event()

        async def body() -> None:
            started.set()
            await asyncio.Event().wait()

        supervisor.keep_running("worker", body)
        await asyncio.wait_for(started.wait(), timeout=5)
        await asyncio.wait_for(supervisor.stop(), timeout=5)
        assert not supervisor.running("worker")


class TestHelpers:
    def test_backoff_doubles_up_to_its_cap_and_resets(self):
        """Delays double from the start value, stay at the cap, and start over on reset."""
        backoff = Backoff(start=0.5, cap=3)
        assert [backoff.next() for _ in range(5)] == [0.5, 1, 2, 3, 3]
        backoff.reset()
        assert backoff.next() == 0.5

    def test_describe_keeps_one_short_line(self):
        """A proxy's multi-line error page becomes its type and first line, cut short."""
        exc = RuntimeError("502 Bad Gateway\n<html>" + "x" * 500)
        assert describe(exc) == "RuntimeError: 502 Bad Gateway"
        assert len(describe(RuntimeError("y" * 1000))) < 220
