"""Wiring: the only module that names concrete adapters. Every entry point opens a Runtime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trt.settings import Settings

if TYPE_CHECKING:
    from trt.store.sql import SqlStore


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    store: SqlStore


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, check_schema: bool = True) -> AsyncIterator[Runtime]:
    """Connect what `settings` describe; closes everything on exit.

    Raises: DatabaseUnavailable, SchemaNotMigrated.
    """
    from trt.store.sql import open_store  # sqlalchemy costs ~0.5 s; keep it off `trt --help`

    async with open_store(settings.database_url, check_schema=check_schema) as store:
        yield Runtime(settings=settings, store=store)
