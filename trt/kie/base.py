"""What the KIE port speaks: requests and the records KIE gives back.

The port itself (`KieReader`, `KieApi`) is core's, in `trt.core.ports`;
`trt.kie.client.KieClient` implements it over HTTP and `trt.sandbox.kie.fake.FakeKie` in
memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from trt.domain import Family, KieTaskId
from trt.kie.states import TaskState

# Family is the port's vocabulary too, so the adapters may import it from here.
__all__ = ["FAMILIES", "CreateTask", "Family", "TaskRecord"]

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
