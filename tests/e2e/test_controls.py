"""Controls reach another process: a `trt serve` child sees maintenance switched on by
another process (the operator's) within CONTROLS_REFRESH_SECONDS, with no restart, and
pauses its users; switched off, it serves them again."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import Emulators, child_settings, eventually
from tests.e2e.processes import ServerProcess
from tests.e2e.test_two_instances import health, post_update
from trt.catalog.paths import default_registry_dir
from trt.catalog.registry import Registry
from trt.core.controls import Controls
from trt.store.sql import open_store

REFRESH_SECONDS = 0.5
USER = 7300


class TestAnotherProcess:
    async def test_maintenance_reaches_a_running_server(
        self, database_url: str, emulators: Emulators, tmp_path: Path,
        server_processes: list[ServerProcess],
    ) -> None:  # fmt: skip
        """Within the refresh period (plus a read): /health shows maintenance, a user's
        update gets the operator's message; off again, the user is served."""
        tg, kie = emulators
        settings = child_settings(database_url, tg, kie, controls_refresh_seconds=REFRESH_SECONDS)
        server = ServerProcess(settings, tmp_path / "serve.log")
        server_processes.append(server)
        await server.start()
        assert (await health(server))["maintenance"] is False
        tg.user(USER, language_code="en")
        async with open_store(database_url) as store:
            controls = Controls(store.controls, Registry.load(default_registry_dir()))
            await controls.set_maintenance(True, message="Back soon", actor="cli:e2e")
            switched = time.monotonic()

            async def paused() -> bool:
                return (await health(server))["maintenance"] is True

            await eventually(paused, within=REFRESH_SECONDS + 5)
            assert time.monotonic() - switched < REFRESH_SECONDS + 5
            assert (await health(server))["maintenance_message"] == "Back soon"
            mark = tg.bot_message_mark(USER)
            assert await post_update(server, 1, USER) == 200
            told = await tg.wait_for_message(USER, timeout=10, after=mark)
            assert told.text == "🛠 Back soon"

            await controls.set_maintenance(False, message=None, actor="cli:e2e")

            async def serving() -> bool:
                return (await health(server))["maintenance"] is False

            await eventually(serving, within=REFRESH_SECONDS + 5)
            mark = tg.bot_message_mark(USER)
            assert await post_update(server, 2, USER) == 200
            welcome = await tg.wait_for_message(USER, timeout=10, after=mark)
            assert not (welcome.text or "").startswith("🛠")
