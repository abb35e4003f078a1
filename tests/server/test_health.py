"""/health shows maintenance mode without calling the server unhealthy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.core.conftest import build
from trt.catalog.paths import default_registry_dir
from trt.catalog.registry import Registry
from trt.core.metrics import Metrics
from trt.core.services import Services
from trt.server.app import TrtServer
from trt.settings import Settings
from trt.store.engine import create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata

Client = TestClient[Any, Any]


@pytest.fixture
async def client() -> AsyncIterator[tuple[Client, Services]]:
    db = create_database("sqlite+aiosqlite://")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    store = SqlStore(db)
    registry = Registry.load(default_registry_dir())
    rig = build(store, registry)
    services = Services(
        Settings(_env_file=None), store, registry, rig.kie, rig.gen, Metrics(), False, None
    )
    async with TestClient(TestServer(TrtServer(services, None).build_app())) as http:
        yield http, services
    await db.dispose()


class TestHealth:
    async def test_not_in_maintenance(self, client: tuple[Client, Services]) -> None:
        """Normally: maintenance false and no message."""
        http, _ = client
        body = await (await http.get("/health")).json()
        assert (body["status"], body["maintenance"]) == ("ok", False)
        assert "maintenance_message" not in body

    async def test_maintenance_shown_status_still_ok(
        self, client: tuple[Client, Services]
    ) -> None:
        """In maintenance: 200, status ok, maintenance true with the operator's message."""
        http, services = client
        await services.controls.set_maintenance(True, message="Back at 10", actor="cli:ops")
        response = await http.get("/health")
        body = await response.json()
        assert response.status == 200
        assert (body["status"], body["maintenance"], body["maintenance_message"]) == (
            "ok", True, "Back at 10",
        )  # fmt: skip
