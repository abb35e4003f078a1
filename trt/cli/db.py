"""`trt db`: schema migrations and backups."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from trt.cli import console

app = typer.Typer(no_args_is_help=True, help="Database: migrate, inspect, back up.")


@app.command()
def upgrade() -> None:
    """Apply every pending migration (safe to run repeatedly)."""
    location, revision = asyncio.run(_upgrade())
    console.success(f"database {location} is at revision {revision}")


async def _upgrade() -> tuple[str, str | None]:
    from trt.runtime import upgrade_database
    from trt.settings import load_settings

    return await upgrade_database(load_settings().database_url.get_secret_value())


@app.command()
def current() -> None:
    """Show the schema revision of the database and whether it is up to date."""
    location, revision, head = asyncio.run(_current())
    if revision == head:
        console.line(f"{location}: revision {revision} (up to date)")
    else:
        from trt.errors import SchemaNotMigrated

        shown = revision or "not initialised"
        console.line(f"{location}: {shown}; this version needs {head}: run `trt db upgrade`")
        raise typer.Exit(code=SchemaNotMigrated.exit_code)  # scripts can test it


async def _current() -> tuple[str, str | None, str]:
    from trt.runtime import database_revision
    from trt.settings import load_settings

    return await database_revision(load_settings().database_url.get_secret_value())


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Copy the database to FILE, safely while `trt serve` runs (SQLite: the online backup
    API; Postgres: pg_dump's custom format, for pg_restore)."""
    from trt.runtime import backup_database
    from trt.settings import load_settings

    url = load_settings().database_url.get_secret_value()
    made = backup_database(url, file, force=force)
    console.success(f"backed up {made.source} to {made.target} ({made.size} bytes, {made.tool})")
