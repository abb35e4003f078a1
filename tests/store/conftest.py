"""Store fixtures: SQLite (in memory and on a file) always, real Postgres when
TRT_TEST_POSTGRES_URL is set.

In CI (CI=true) a missing Postgres URL fails the suite instead of skipping it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from trt.settings import normalise_database_url
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore
from trt.store.tables import metadata

POSTGRES_ENV = "TRT_TEST_POSTGRES_URL"


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return normalise_database_url(url)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_ENV} must be set in CI: the Postgres suite may not skip there")
    pytest.skip(f"{POSTGRES_ENV} is not set; the Postgres half of the store suite is skipped")


async def reset_schema(db: Database) -> None:
    """Drop everything (tables and Alembic's stamp) and create the current tables."""
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await conn.run_sync(metadata.create_all)


@pytest.fixture(params=["sqlite", "sqlite-file", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, empty database with the current schema on each backend: SQLite in memory
    (shared connection), an SQLite file (WAL; `Database.run` on its own threads), and
    Postgres."""
    if request.param == "sqlite":
        db = create_database("sqlite+aiosqlite://")
    elif request.param == "sqlite-file":
        db = create_database(f"sqlite+aiosqlite:///{tmp_path / 'trt.db'}")
    else:
        db = create_database(postgres_url(), pool_size=20)
    await reset_schema(db)
    yield db
    await db.dispose()


@pytest.fixture
def store(database: Database) -> SqlStore:
    return SqlStore(database)
