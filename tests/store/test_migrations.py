from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from trt.errors import SchemaNotMigrated
from trt.store import schema
from trt.store.engine import Database
from trt.store.tables import metadata


async def empty(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _diff(sync_connection: Any) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


class TestMigrations:
    async def test_upgrade_from_empty_matches_the_models(self, database: Database) -> None:
        """Upgrading an empty database yields exactly the tables the models describe."""
        await empty(database)
        await schema.upgrade(database)
        async with database.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
        assert await schema.current_revision(database) == schema.SCHEMA_HEAD

    async def test_unmigrated_database_is_refused(self, database: Database) -> None:
        """An empty database fails the schema check with the command that fixes it."""
        await empty(database)
        with pytest.raises(SchemaNotMigrated, match="trt db upgrade"):
            await schema.require_current_schema(database)

    def test_schema_head_is_the_newest_migration(self) -> None:
        """The constant the fast schema check uses names Alembic's head revision."""
        from alembic.script import ScriptDirectory

        heads = ScriptDirectory.from_config(schema.alembic_config()).get_heads()
        assert heads == [schema.SCHEMA_HEAD]
