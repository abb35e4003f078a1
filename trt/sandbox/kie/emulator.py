"""A KIE emulator: a real aiohttp server with KIE's endpoints, envelope and callbacks.

    async with run_emulator(port=0, hmac_key="k", clock=ManualClock()) as emu:
        client = KieClient.connect(api_key="any", base_url=emu.base_url,
                                   upload_base_url=emu.base_url)
        task_id = await client.create_task(request)
        await emu.advance(5)          # the task finishes; its callback is delivered
        emu.deliveries                # every callback attempt, with status

Everything a faithful fake needs (API.md §8): Market, Veo (with 1080p) and Suno tasks
that move waiting → queuing → generating → success|fail; signed callbacks that can be
duplicated, delayed, dropped or held and released in any order; the creation rate limit
(HTTP 429); injected failures; real sample files; uploads served back. It listens on
127.0.0.1 unless told otherwise and is not a production server.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import hmac
import itertools
import json
import logging
import os
import random
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from trt.errors import PortUnavailable
from trt.kie.base import Family
from trt.kie.callbacks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from trt.kie.states import TaskState
from trt.sandbox.clock import Clock, ManualClock, RealClock
from trt.sandbox.kie.emulation import (
    CallbackPlan,
    EmulatedTask,
    Fault,
    Route,
    Schedule,
    TaskPlan,
    View,
    callback_bodies,
    media_kind,
    record_json,
)
from trt.sandbox.kie.pricing import Pricer
from trt.sandbox.kie.routes import build_app

logger = logging.getLogger(__name__)

__all__ = [
    "CallbackPlan",
    "Delivery",
    "Emulator",
    "EmulatorOptions",
    "Fault",
    "ManualClock",
    "RealClock",
    "Schedule",
    "TaskPlan",
    "run_emulator",
]


@dataclass
class EmulatorOptions:
    api_key: str | None = None  # None: any non-empty Bearer token is accepted
    hmac_key: str | None = None  # set: callbacks carry KIE's signature headers
    schedule: Schedule = field(default_factory=Schedule)
    fail_rate: float = 0.0  # share of tasks that end in `fail`
    callback_delay: float = 0.0  # seconds between a task finishing and its callback
    rate_limit: int | None = 20  # creations per `rate_window` seconds; None: off
    rate_window: float = 10.0
    credits: Decimal = Decimal(10_000)
    task_cost: Decimal = Decimal(10)  # what a task costs when `price` cannot say
    # What a task costs, from its KIE model and request (see pricing.registry_pricer).
    price: Pricer | None = None
    # KIE model name -> factor on that cost: KIE charging more than trt quoted.
    overcharge: Mapping[str, Decimal] = field(default_factory=dict)
    unknown_task: Literal["422", "404"] = "422"  # observed vs documented answer
    veo_1080p_after: float = 0.0  # seconds after success until the 1080p file is ready
    callback_attempts: int = 4  # the first try plus KIE's "3 retries"
    callback_retry_delay: float = 1.0
    seed: int | None = None
    # Faults drawn at random, for `trt kie emulate` (tests script them with plan/inject).
    callback_drop_rate: float = 0.0  # share of tasks whose callbacks are never sent
    callback_copies: int = 1  # each callback sent this many times
    request_fail_rate: float = 0.0  # share of API requests that fail
    request_fail_mode: Literal["5xx", "timeout"] = "5xx"  # HTTP 500, or no answer in time
    request_timeout_after: float = 120.0  # how long a "timeout" request waits to answer
    null_record_reads: int = 0  # a task's first recordInfo reads answer "recordInfo is null"


@dataclass(frozen=True)
class Delivery:
    """One callback attempt; ``status`` is None when the receiver could not be reached."""

    task_id: str
    url: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int | None
    attempt: int


@dataclass(frozen=True)
class _Pending:
    task_id: str
    url: str
    body: dict[str, Any]
    attempt: int = 1


class Emulator:
    """The emulator's state and the hooks tests use; served by `build_app`."""

    def __init__(self, options: EmulatorOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.base_url = ""
        self.credits = options.credits
        self.tasks: dict[str, EmulatedTask] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.deliveries: list[Delivery] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.held: list[_Pending] = []
        self.holding = False
        self._faults: dict[str, deque[Fault]] = {}
        self._plans: deque[TaskPlan] = deque()
        self._creations: deque[float] = deque()
        self._rng = random.Random(options.seed)
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._session: ClientSession | None = None
        self._closing = asyncio.Event()

    # --- hooks -----------------------------------------------------------------------

    def inject(self, route: Route, fault: Fault, *, times: int = 1) -> None:
        """Answer the next `times` calls of `route` with `fault`."""
        self._faults.setdefault(route, deque()).extend([fault] * times)

    def plan(self, plan: TaskPlan, *, times: int = 1) -> None:
        """The next `times` created tasks follow `plan`."""
        self._plans.extend([plan] * times)

    def finish(self, task_id: str, *, success: bool = True) -> None:
        """End a task now (its planned fail code applies), whatever its schedule says."""
        task = self.tasks[task_id]
        outcome: Literal["success", "fail"] = "success" if success else "fail"
        if outcome != task.plan.outcome:
            self.credits += task.cost if outcome == "fail" else -task.cost
            task.plan = replace(task.plan, outcome=outcome)
        task.forced = TaskState.SUCCESS if success else TaskState.FAIL
        task.finished = self.clock.now()
        self._schedule_completion(task)

    def set_state(self, task_id: str, state: TaskState | None) -> None:
        """Pin a task in a non-final state until `finish`; None returns it to its schedule."""
        if state is not None and state.is_final:
            raise ValueError("use finish() to end a task")
        self.tasks[task_id].forced = state

    def hold_callbacks(self) -> None:
        """Keep callbacks instead of sending them, until `release_callbacks`."""
        self.holding = True

    async def release_callbacks(
        self, order: Literal["fifo", "reverse", "shuffle"] = "fifo"
    ) -> None:
        """Send the held callbacks in the given order and stop holding."""
        held, self.held, self.holding = self.held, [], False
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            self._rng.shuffle(held)
        for pending in held:
            await self._deliver(pending)

    async def advance(self, seconds: float) -> None:
        """Move a `ManualClock` forward and deliver whatever became due."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs the emulator to run on a ManualClock")
        self.clock.value += seconds
        await self.settle()

    async def settle(self) -> None:
        """Run due work and wait for callbacks in flight."""
        while True:
            self._run_due()
            if not self._inflight:
                return
            await asyncio.gather(*self._inflight)

    def record(self, task: EmulatedTask) -> dict[str, Any]:
        """The task's record-query ``data`` right now."""
        return record_json(self.view(task))

    def new_id(self) -> str:
        return uuid.uuid4().hex

    async def pause(self, seconds: float) -> None:
        """Wait (a slow answer), but stop early when the emulator shuts down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def view(self, task: EmulatedTask) -> View:
        state = task.state(self.clock.now(), self.options.schedule)
        done = task.done_at(self.options.schedule) - task.created
        return View(task, state, task.created_wall + done if state.is_final else None)

    # --- tasks -------------------------------------------------------------------------

    def create(self, family: Family, model: str, param: dict[str, Any]) -> str:
        prefix = {Family.MARKET: "task_", Family.VEO: "veo_task_", Family.SUNO: ""}[family]
        task_id = prefix + uuid.uuid4().hex
        plan = self._plans.popleft() if self._plans else self._random_plan()
        task = EmulatedTask(
            task_id=task_id, family=family, model=model, param=param,
            callback_url=param.get("callBackUrl") or None, created=self.clock.now(),
            created_wall=time.time(), plan=plan, cost=self._cost(model, param),
        )  # fmt: skip
        kind = media_kind(family, model, param.get("input") or param)
        count = 2 if family is Family.SUNO else 1
        task.result_urls = tuple(
            f"{self.base_url}/files/{task_id}/{i}.{kind}" for i in range(count)
        )
        self.credits -= task.cost if plan.outcome == "success" else 0
        self.tasks[task_id] = task
        self._schedule_completion(task)
        return task_id

    def _cost(self, model: str, param: Mapping[str, Any]) -> Decimal:
        """The credits KIE bills for the task (and its callback reports)."""
        options = self.options
        cost = None
        if options.price is not None:
            request = param.get("input")
            cost = options.price(model, request if isinstance(request, Mapping) else param)
        base = options.task_cost if cost is None else cost
        return base * options.overcharge.get(model, Decimal(1))

    def _random_plan(self) -> TaskPlan:
        options = self.options
        drop = bool(options.callback_drop_rate) and self._chance(options.callback_drop_rate)
        callbacks = CallbackPlan(copies=options.callback_copies, drop=drop)
        if options.fail_rate and self._chance(options.fail_rate):
            return TaskPlan(outcome="fail", callbacks=callbacks)
        return TaskPlan(callbacks=callbacks)

    def _chance(self, rate: float) -> bool:
        return self._rng.random() < rate

    def _random_fault(self) -> Fault | None:
        options = self.options
        if not (options.request_fail_rate and self._chance(options.request_fail_rate)):
            return None
        if options.request_fail_mode == "timeout":  # slow, then a correct answer
            return Fault(code=None, delay=options.request_timeout_after)
        return Fault(code=500, http_status=500)

    def _schedule_completion(self, task: EmulatedTask) -> None:
        if task.callback_url is None:
            return
        plan = task.plan.callbacks
        due = task.done_at(self.options.schedule) + self.options.callback_delay
        self._at(due + plan.extra_delay, lambda: self._complete(task))

    def _complete(self, task: EmulatedTask) -> None:
        view = self.view(task)
        if not view.state.is_final or task.notified or task.callback_url is None:
            return  # rescheduled by finish(), or pinned by set_state()
        task.notified = True
        if task.plan.callbacks.drop:
            return
        for body in callback_bodies(view, self.credits):
            for _ in range(task.plan.callbacks.copies):
                self._send(_Pending(task.task_id, task.callback_url, body))

    # --- scheduling and delivery -----------------------------------------------------

    def _at(self, due: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), action))
        self._wake.set()

    def _run_due(self) -> None:
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now:
            _, _, action = heapq.heappop(self._heap)
            action()

    def _send(self, pending: _Pending) -> None:
        if self.holding:
            self.held.append(pending)
            return
        job = asyncio.get_running_loop().create_task(self._deliver(pending))
        self._inflight.add(job)
        job.add_done_callback(self._inflight.discard)

    async def _deliver(self, pending: _Pending) -> None:
        headers = {"Content-Type": "application/json"}
        if self.options.hmac_key:
            stamp = str(int(time.time()))
            data = pending.body["data"]
            task_id = str(data.get("taskId") or data.get("task_id"))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(task_id, stamp, self.options.hmac_key)
        status = await self._post(pending.url, pending.body, headers)
        self.deliveries.append(Delivery(pending.task_id, pending.url, pending.body, headers,
                                        status, pending.attempt))  # fmt: skip
        ok = status is not None and 200 <= status < 300
        if not ok and pending.attempt < self.options.callback_attempts:
            retry = replace(pending, attempt=pending.attempt + 1)
            delay = self.options.callback_retry_delay * pending.attempt
            self._at(self.clock.now() + delay, lambda: self._send(retry))

    async def _post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> int | None:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=15))
        try:
            async with self._session.post(url, data=json.dumps(body), headers=headers) as answer:
                await answer.read()
                return answer.status
        except (ClientError, TimeoutError) as e:
            # Only the host: a callback URL's path carries the receiver's secret token.
            logger.info("callback to %s failed: %s", _origin(url), type(e).__name__)
            return None

    async def run_scheduler(self) -> None:
        """Run due work as the clock reaches it (a ManualClock only moves by `advance`)."""
        while True:
            self._wake.clear()
            self._run_due()
            timeout = None
            if self._heap and not self.clock.manual:
                timeout = max(self._heap[0][0] - self.clock.now(), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def close(self) -> None:
        self._closing.set()
        for job in list(self._inflight):
            job.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # --- request plumbing --------------------------------------------------------------

    def take_fault(self, route: Route) -> Fault | None:
        for key in (route, "any"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return self._random_fault()

    def authorised(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token.strip():
            return False
        expected = self.options.api_key
        return expected is None or hmac.compare_digest(token.strip(), expected)

    def rate_limited(self) -> bool:
        limit = self.options.rate_limit
        if limit is None:
            return False
        now = self.clock.now()
        while self._creations and self._creations[0] <= now - self.options.rate_window:
            self._creations.popleft()
        if len(self._creations) >= limit:
            return True
        self._creations.append(now)
        return False


@asynccontextmanager
async def run_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    options: EmulatorOptions | None = None,
    **overrides: Any,
) -> AsyncIterator[Emulator]:
    """Serve an emulator until the block exits; `port=0` picks a free port.

    `overrides` are `EmulatorOptions` fields (``hmac_key="k"``, ``rate_limit=None``…).
    """
    emu = Emulator(replace(options or EmulatorOptions(), **overrides), clock or RealClock())
    runner = web.AppRunner(build_app(emu), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise PortUnavailable(
                host, port, os.strerror(exc.errno) if exc.errno else str(exc)
            ) from None
        emu.base_url = f"http://{host}:{runner.addresses[0][1]}"
        scheduler = asyncio.create_task(emu.run_scheduler())
        try:
            yield emu
        finally:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
            await emu.close()
    finally:
        await runner.cleanup()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"
