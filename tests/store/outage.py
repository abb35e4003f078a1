"""A throw-away Postgres database a test can make unreachable and bring back: new
connections refused (`ALLOW_CONNECTIONS false`) and every open one terminated, as when
the server restarts or the network drops."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.store.conftest import postgres_url


class BreakableDatabase:
    def __init__(self, admin: AsyncEngine, name: str, url: str) -> None:
        self.admin = admin  # on the server's `postgres` database, autocommitting
        self.name = name
        self.url = url  # for trt (postgresql+asyncpg://…)

    async def cut(self) -> None:
        """Refuse new connections and terminate the open ones."""
        await self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )

    async def restore(self) -> None:
        await self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    async def _run(self, sql: str) -> None:
        async with self.admin.connect() as conn:
            await conn.execute(text(sql))


@asynccontextmanager
async def breakable_database() -> AsyncIterator[BreakableDatabase]:
    """A new, empty database on the test server, dropped at the end whatever happened."""
    base = make_url(postgres_url())
    name = f"trt_outage_{secrets.token_hex(4)}"  # letters and digits: safe to quote
    admin = create_async_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    target = BreakableDatabase(admin, name, base.set(database=name).render_as_string(False))
    try:
        await target._run(f'CREATE DATABASE "{name}"')
        yield target
    finally:
        await target._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()
