"""`trt db`: schema migrations."""

from __future__ import annotations

import asyncio

import typer

from trt.cli import console

app = typer.Typer(no_args_is_help=True, help="Database schema: migrate and inspect.")


@app.command()
def upgrade() -> None:
    """Apply every pending migration (safe to run repeatedly)."""
    location, revision = asyncio.run(_upgrade())
    console.success(f"database {location} is at revision {revision}")


async def _upgrade() -> tuple[str, str | None]:
    from trt.settings import load_settings
    from trt.store import schema
    from trt.store.engine import create_database

    db = create_database(load_settings().database_url)
    try:
        await schema.upgrade(db)
        return db.location, await schema.current_revision(db)
    finally:
        await db.dispose()


@app.command()
def current() -> None:
    """Show the schema revision of the database and whether it is up to date."""
    location, revision, head = asyncio.run(_current())
    if revision == head:
        console.line(f"{location}: revision {revision} (up to date)")
    else:
        shown = revision or "not initialised"
        console.line(f"{location}: {shown}; this version needs {head}: run `trt db upgrade`")


async def _current() -> tuple[str, str | None, str]:
    from trt.settings import load_settings
    from trt.store import schema
    from trt.store.engine import create_database

    db = create_database(load_settings().database_url)
    try:
        return db.location, await schema.current_revision(db), schema.SCHEMA_HEAD
    finally:
        await db.dispose()
