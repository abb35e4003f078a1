from __future__ import annotations

import logging
from datetime import timedelta
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
    async def test_upgrade_logs_no_alembic_plugin_lines(
        self, database: Database, caplog: pytest.LogCaptureFixture
    ) -> None:
        """`serve --migrate` printed seven "setting up autogenerate plugin" lines; the
        migration's own "Running upgrade" lines are what an operator reads."""
        await empty(database)
        with caplog.at_level(logging.INFO):
            await schema.upgrade(database)
        assert [r for r in caplog.records if r.name.startswith("alembic.runtime.plugins")] == []
        assert any("Running upgrade" in r.getMessage() for r in caplog.records)

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

    async def test_the_inbox_rebuild_keeps_every_update(self, database: Database) -> None:
        """0005 rebuilds the inbox: stored updates keep their state, gain their digest (a
        retried delivery stays a duplicate) and their sender (their order is kept)."""
        from trt.records import Arrival
        from trt.store.inbox import SqlInbox

        await empty(database)
        await schema.upgrade(database, "0004")
        payload = '{"update_id": 5, "message": {"from": {"id": 77}, "text": "hi"}}'
        async with database.transaction() as conn:
            for update_id, processed in ((5, "NULL"), (6, "'2026-12-01 10:00:00'")):
                body = payload.replace("5", str(update_id), 1)
                await conn.execute(
                    text(
                        "INSERT INTO telegram_updates (update_id, payload, received_at, "
                        f"processed_at) VALUES ({update_id}, '{body}', "
                        f"'2026-12-01 09:00:00', {processed})"
                    )
                )
        await schema.upgrade(database)
        inbox = SqlInbox(database)
        stranded = await inbox.stranded(grace=timedelta(0))
        assert [(p.update_id, p.user_id) for p in stranded] == [(5, 77)]
        retried = Arrival(6, {"update_id": 6, "message": {"from": {"id": 77}, "text": "hi"}}, 77)
        assert await inbox.record_many([retried]) == [None]


class TestConcurrentUpgrades:
    async def test_instances_migrating_together_take_turns(self) -> None:
        """Several `trt serve --migrate` starting at once on one Postgres (a deploy with more
        instances): each upgrade succeeds and the schema is built once."""
        import asyncio

        from tests.store.conftest import postgres_url
        from trt.store.engine import create_database

        instances = [create_database(postgres_url()) for _ in range(3)]
        try:
            await empty(instances[0])
            await asyncio.gather(*(schema.upgrade(db) for db in instances))
            assert await schema.current_revision(instances[0]) == schema.SCHEMA_HEAD
        finally:
            for db in instances:
                await db.dispose()
