"""A migrated SQLite file in the test's folder, seeded through the store, for CLI tests;
and servers (emulators) the CLI under test reaches, each on a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import pytest

from tests.conftest import CliInvoke
from tests.store.conftest import postgres_url
from trt.domain import EventSource, JobId, JobState, LedgerKind, TgUserId
from trt.records import JobChanges, NewJob
from trt.settings import DEFAULT_DATABASE_URL
from trt.store.engine import create_database
from trt.store.sql import open_store

ALICE = TgUserId(111)
BOB = TgUserId(222)
T = TypeVar("T")


@contextlib.contextmanager
def served_in_thread(running: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter `running()` on an event loop of its own thread (the CLI under test runs
    asyncio.run on the test's) and give what it yields; leaving the block stops it.

    A start-up failure is raised here, and the thread is a daemon: a server that failed
    to start can never hold the test run open at exit."""
    loop = asyncio.new_event_loop()
    ready, stop = threading.Event(), asyncio.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        try:
            async with running() as value:
                box["value"] = value
                ready.set()
                await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            ready.set()
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(30):
        raise TimeoutError("the server did not start within 30 s")
    if "error" in box:
        raise box["error"]
    try:
        yield box["value"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        if not thread.is_alive():
            loop.close()


def scrub(text: str) -> str:
    """Replace job ids and wall-clock times, which differ on every run."""
    text = re.sub(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", "<JOB>", text)
    return re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?", "<TIME>", text)


async def _seed(url: str = DEFAULT_DATABASE_URL) -> dict[str, JobId]:
    async with open_store(url) as store:
        await store.users.ensure(ALICE, username="alice", language="ru")
        await store.users.ensure(BOB, username="bob", language="en")
        await store.ledger.credit(ALICE, 100, kind=LedgerKind.TOPUP, key="topup:ch1", reason="")
        done, _ = await store.pipeline.open_job(
            NewJob(ALICE, "google/nano-banana", "market", {"prompt": "a cat"}, 12), max_active=3
        )
        await store.jobs.transition(done.id, JobState.SUBMITTING, source=EventSource.USER)
        await store.jobs.transition(
            done.id, JobState.SUBMITTED, source=EventSource.USER,
            changes=JobChanges(kie_task_id="task-abc"),
        )  # fmt: skip
        await store.jobs.transition(
            done.id, JobState.SUCCEEDED, source=EventSource.CALLBACK,
            changes=JobChanges(result_urls=["https://files.example/cat.png"]),
        )  # fmt: skip
        await store.ledger.charge(done.id)
        # Bob's job waits for KIE with his whole balance held.
        await store.ledger.credit(BOB, 60, kind=LedgerKind.TOPUP, key="topup:ch2", reason="")
        waiting, _ = await store.pipeline.open_job(
            NewJob(BOB, "veo3_fast", "veo", {"prompt": "a dog"}, 60), max_active=3
        )
        return {"done": done.id, "waiting": waiting.id}


@pytest.fixture(autouse=True)
def _no_stale_log_handler() -> Iterator[None]:
    """`trt serve` under test points the root logger at the runner's stderr, which closes
    with its test; a later test's log line would then print a logging error into that
    test's output. Handlers a test added that way go with it."""
    root = logging.getLogger()
    before = set(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in before and type(handler) is logging.StreamHandler:
            root.removeHandler(handler)


@pytest.fixture
def seeded(trt: CliInvoke) -> dict[str, JobId]:
    result = trt("db", "upgrade")
    assert result.exit_code == 0, result.output
    return asyncio.run(_seed())


async def _drop_everything(url: str) -> None:
    from tests.store.test_migrations import empty

    db = create_database(url)
    try:
        await empty(db)
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL for the CLI under test: the default SQLite file, or an emptied
    Postgres (skipped without TRT_TEST_POSTGRES_URL, as the store suite is)."""
    if request.param == "sqlite":
        return DEFAULT_DATABASE_URL
    url = postgres_url()
    asyncio.run(_drop_everything(url))
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def seeded_any(trt: CliInvoke, store_url: str) -> dict[str, JobId]:
    """`seeded`, on SQLite and on Postgres."""
    result = trt("db", "upgrade")
    assert result.exit_code == 0, result.output
    return asyncio.run(_seed(store_url))
