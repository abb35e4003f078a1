"""`FakeKie`: the KIE port in memory, for the pipeline's tests.

kie = FakeKie()
kie.script(TaskState.GENERATING, TaskState.SUCCESS)   # what the next task reports
task_id = await kie.create_task(request)
assert kie.submitted == [request]
kie.fail_next("create_task", KieInsufficientCredits(200, 402))
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from trt.domain import KieTaskId
from trt.errors import KieError
from trt.kie.base import CreateTask, Family, TaskRecord
from trt.kie.errors import KieNotFound
from trt.kie.states import TaskState

Method = Literal[
    "create_task",
    "get_task",
    "credits",
    "download_url",
    "veo_1080p",
    "upload_file",
    "upload_base64",
]


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    mime: str
    url: str
    base64: bool


class FakeKie:
    """Implements `KieApi`. Tasks report the states of their script, one per `get_task`
    call, repeating the last; a success carries `result_urls`."""

    def __init__(
        self, *, credits: Decimal = Decimal(1000), cost: Decimal | None = Decimal(10)
    ) -> None:
        self.submitted: list[CreateTask] = []
        self.uploads: list[Upload] = []
        self.queries: list[tuple[Family, KieTaskId]] = []
        self.balance = credits
        self.cost = cost  # what a success record says it consumed; None: no figure
        self.failure = ("500", "Internal server error")  # failCode and failMsg of a FAIL
        self.results_per_task = 1  # result URLs a successful task returns
        self.closed = False
        self._default_script: tuple[TaskState, ...] = (TaskState.SUCCESS,)
        self._next_scripts: deque[tuple[TaskState, ...]] = deque()
        self._scripts: dict[KieTaskId, deque[TaskState]] = {}
        self._tasks: dict[KieTaskId, CreateTask] = {}
        self._errors: dict[str, deque[KieError]] = {}
        self._counter = 0

    def script(self, *states: TaskState, default: bool = False) -> None:
        """The states the next created task reports (or every task, with `default`)."""
        if default:
            self._default_script = states
        else:
            self._next_scripts.append(states)

    def set_states(self, task_id: KieTaskId, *states: TaskState) -> None:
        """Replace an existing task's remaining states."""
        self._scripts[task_id] = deque(states)

    def fail_next(self, method: Method, error: KieError, *, times: int = 1) -> None:
        """Make the next `times` calls of `method` raise `error`."""
        self._errors.setdefault(method, deque()).extend([error] * times)

    def result_urls(self, task_id: KieTaskId) -> tuple[str, ...]:
        count = self.results_per_task
        return tuple(f"https://fake.kie.test/results/{task_id}/{i}.png" for i in range(count))

    async def create_task(self, request: CreateTask) -> KieTaskId:
        self._raise_if_scripted("create_task")
        self.submitted.append(request)
        self._counter += 1
        task_id = KieTaskId(f"fake_{request.family}_{self._counter}")
        script = self._next_scripts.popleft() if self._next_scripts else self._default_script
        self._scripts[task_id] = deque(script)
        self._tasks[task_id] = request
        return task_id

    async def get_task(self, family: Family, task_id: KieTaskId) -> TaskRecord:
        self._raise_if_scripted("get_task")
        self.queries.append((family, task_id))
        request = self._tasks.get(task_id)
        if request is None or request.family is not family:
            raise KieNotFound(200, 422, "recordInfo is null")
        states = self._scripts[task_id]
        state = states.popleft() if len(states) > 1 else states[0]
        return self._record(task_id, family, state)

    async def credits(self) -> Decimal:
        self._raise_if_scripted("credits")
        return self.balance

    async def download_url(self, url: str) -> str:
        self._raise_if_scripted("download_url")
        return f"{url}?signed=fake"

    async def veo_1080p(self, task_id: KieTaskId, index: int | None = None) -> str:
        self._raise_if_scripted("veo_1080p")
        return f"https://fake.kie.test/results/{task_id}/1080p.mp4"

    async def upload_file(self, name: str, content: bytes, mime: str) -> str:
        self._raise_if_scripted("upload_file")
        return self._store(name, content, mime, base64=False)

    async def upload_base64(self, name: str, content: bytes, mime: str) -> str:
        self._raise_if_scripted("upload_base64")
        return self._store(name, content, mime, base64=True)

    async def aclose(self) -> None:
        self.closed = True

    def _store(self, name: str, content: bytes, mime: str, *, base64: bool) -> str:
        url = f"https://fake.kie.test/uploads/{len(self.uploads)}/{name}"
        self.uploads.append(Upload(name, content, mime, url, base64))
        return url

    def _record(self, task_id: KieTaskId, family: Family, state: TaskState) -> TaskRecord:
        now = datetime.now(UTC)
        record = TaskRecord(task_id=task_id, family=family, state=state, created_at=now)
        if state is TaskState.SUCCESS:
            return replace(
                record,
                result_urls=self.result_urls(task_id),
                credits_consumed=self.cost,
                completed_at=now,
            )
        if state is TaskState.FAIL:
            code, message = self.failure
            return replace(record, fail_code=code, fail_message=message, completed_at=now)
        return record

    def _raise_if_scripted(self, method: str) -> None:
        queue = self._errors.get(method)
        if queue:
            raise queue.popleft()
