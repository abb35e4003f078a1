"""Alembic wiring and the schema check every command runs before touching data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from trt.errors import SchemaNotMigrated
from trt.store.engine import Database

# The newest migration in trt/store/migrations/versions; a test keeps them in step, so the
# check below needs no Alembic import (which would slow every command).
SCHEMA_HEAD = "0010"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The advisory-lock key instances migrating at once queue on (the leader lock's is another).
MIGRATION_LOCK_KEY = 0x747274_0002


async def current_revision(db: Database) -> str | None:
    """The revision stamped in the database, or None when it was never migrated."""
    async with db.transaction(readonly=True) as conn:
        try:
            async with conn.begin_nested():
                result = await conn.execute(text("SELECT version_num FROM alembic_version"))
                return result.scalar_one_or_none()
        except DBAPIError:  # no alembic_version table yet
            return None


async def require_current_schema(db: Database) -> None:
    """Raises: SchemaNotMigrated naming the command that fixes it."""
    revision = await current_revision(db)
    if revision != SCHEMA_HEAD:
        raise SchemaNotMigrated(revision, SCHEMA_HEAD)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the database's own engine."""
    async with db.transaction() as conn:
        if conn.dialect.name == "postgresql":
            # Instances started together (`trt serve --migrate` on each) take turns: the
            # later ones find the schema current. Freed when the transaction ends.
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        await conn.run_sync(_run_alembic, "upgrade", revision)


def _run_alembic(sync_connection: Any, action: str, revision: str) -> None:
    # Alembic announces each autogenerate plugin it sets up when first imported (seven
    # INFO lines at every `serve --migrate`); they say nothing about the database.
    # "Running upgrade" lines stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = sync_connection
    getattr(command, action)(config, revision)


def alembic_config() -> Any:
    """An Alembic Config pointing at trt's migrations; no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
