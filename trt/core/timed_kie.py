"""The KIE port with each call's duration observed (trt_kie_call_seconds, by call), so
every caller — pipeline, reconciler, support commands — is measured in one place."""

from __future__ import annotations

from decimal import Decimal

from trt.core.metrics import Metrics
from trt.core.ports import KieApi
from trt.domain import Family, KieTaskId
from trt.kie.base import CreateTask, TaskRecord

SECONDS = "trt_kie_call_seconds"


class TimedKie:
    """Implements KieApi over another KieApi."""

    def __init__(self, kie: KieApi, metrics: Metrics) -> None:
        self.kie = kie
        self.metrics = metrics

    async def create_task(self, request: CreateTask) -> KieTaskId:
        with self.metrics.timed(SECONDS, call="create"):
            return await self.kie.create_task(request)

    async def get_task(self, family: Family, task_id: KieTaskId) -> TaskRecord:
        with self.metrics.timed(SECONDS, call="record"):
            return await self.kie.get_task(family, task_id)

    async def upload_file(self, name: str, content: bytes, mime: str) -> str:
        with self.metrics.timed(SECONDS, call="upload"):
            return await self.kie.upload_file(name, content, mime)

    async def upload_base64(self, name: str, content: bytes, mime: str) -> str:
        with self.metrics.timed(SECONDS, call="upload"):
            return await self.kie.upload_base64(name, content, mime)

    async def credits(self) -> Decimal:
        with self.metrics.timed(SECONDS, call="credits"):
            return await self.kie.credits()

    async def download_url(self, url: str) -> str:
        with self.metrics.timed(SECONDS, call="download_url"):
            return await self.kie.download_url(url)

    async def veo_1080p(self, task_id: KieTaskId, index: int | None = None) -> str:
        with self.metrics.timed(SECONDS, call="veo_1080p"):
            return await self.kie.veo_1080p(task_id, index)

    async def aclose(self) -> None:
        await self.kie.aclose()
