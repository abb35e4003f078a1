"""The KIE port: what the pipeline asks of KIE, and the records it gets back.

`KieReader` is what polling and support need; `KieApi` adds the calls that create tasks
and upload files. `trt.kie.client.KieClient` implements it over HTTP and
`trt.sandbox.kie.fake.FakeKie` in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from trt.domain import Family, KieTaskId
from trt.kie.states import TaskState

# Family is the port's vocabulary too, so the adapters may import it from here.
__all__ = ["FAMILIES", "CreateTask", "Family", "KieApi", "KieReader", "TaskRecord"]

FAMILIES: Final = frozenset({Family.MARKET, Family.VEO, Family.SUNO})
"""The families trt can call; the registry may name others it cannot submit to yet."""


@dataclass(frozen=True)
class CreateTask:
    """One generation request: the model, its parameters and where KIE should call back.

    For Market `model` is the model id (``google/nano-banana``); for Veo and Suno it is the
    family's ``model`` value (``veo3_fast``, ``V4_5``), sent beside the parameters.
    """

    family: Family
    model: str
    input: Mapping[str, Any]
    callback_url: str | None = None


@dataclass(frozen=True)
class TaskRecord:
    """A task as KIE reports it, normalised across families; `raw` keeps KIE's `data`."""

    task_id: KieTaskId
    family: Family
    state: TaskState
    result_urls: tuple[str, ...] = ()
    fail_code: str | None = None
    fail_message: str | None = None
    credits_consumed: Decimal | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


class KieReader(Protocol):
    """Read-only KIE calls: safe to repeat, used by polling and support."""

    async def get_task(self, family: Family, task_id: KieTaskId) -> TaskRecord:
        """The task's current record. Raises: KieNotFound, KieError."""
        ...

    async def credits(self) -> Decimal:
        """The account's remaining credits. Raises: KieError."""
        ...

    async def download_url(self, url: str) -> str:
        """A 20-minute direct link for a KIE-made file. Raises: KieValidationError, KieError."""
        ...

    async def veo_1080p(self, task_id: KieTaskId, index: int | None = None) -> str:
        """The 1080p URL of a finished Veo video. Raises: KieNotReady while it is made."""
        ...


class KieApi(KieReader, Protocol):
    """Every KIE call trt makes."""

    async def create_task(self, request: CreateTask) -> KieTaskId:
        """Start a generation. Raises: KieError (see `nothing_created` on each class)."""
        ...

    async def upload_file(self, name: str, content: bytes, mime: str) -> str:
        """Upload a file (multipart stream) and return its temporary URL. Raises: KieError."""
        ...

    async def upload_base64(self, name: str, content: bytes, mime: str) -> str:
        """Upload a small file as base64 JSON and return its temporary URL. Raises: KieError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
