"""A throw-away Postgres database a test can make unreachable and bring back: new
connections refused (`ALLOW_CONNECTIONS false`) and every open one terminated, as when
the server restarts or the network drops."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

from tests.store.conftest import postgres_url


class BreakableDatabase:
    def __init__(self, admin: asyncpg.Connection, name: str, url: str) -> None:
        self.admin = admin
        self.name = name
        self.url = url  # for trt (postgresql+asyncpg://…)

    async def cut(self) -> None:
        """Refuse new connections and terminate the open ones."""
        await self.admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            self.name,
        )

    async def restore(self) -> None:
        await self.admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@asynccontextmanager
async def breakable_database() -> AsyncIterator[BreakableDatabase]:
    """A new, empty database on the test server, dropped at the end whatever happened."""
    base = make_url(postgres_url())
    name = f"trt_outage_{secrets.token_hex(4)}"
    admin_dsn = base.set(drivername="postgresql", database="postgres")
    admin = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        yield BreakableDatabase(admin, name, url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
