"""Turn core records into table rows and into the stable `--json` shapes."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any


def when(value: datetime | None) -> str | None:
    """UTC time to the second, as support staff read it."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def plain(record: Any) -> dict[str, Any]:
    """A record as JSON-ready data: enums by value, datetimes as ISO 8601 UTC, tuples as lists."""
    return {k: _plain(v) for k, v in dataclasses.asdict(record).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def stars(amount: int) -> str:
    return f"{amount} ⭐"


def signed(amount: int) -> str:
    return f"{amount:+d}" if amount else "0"
