"""What every command group shares: option parsers and running a call inside a Runtime."""

from __future__ import annotations

import asyncio
import getpass
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from trt.domain import ID_LIMIT, STARS_LIMIT
from trt.errors import UsageError

if TYPE_CHECKING:
    from trt.core.services import Services
    from trt.runtime import Runtime

T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable fields).")]
# Range checks happen in click, before any database work: a value past a column's range is
# a one-line usage error, not a driver's overflow traceback.
UserArg = Annotated[
    int,
    typer.Argument(min=1, max=ID_LIMIT - 1, help="The user's Telegram id.", show_default=False),
]
UserOption = Annotated[
    int | None, typer.Option(min=1, max=ID_LIMIT - 1, help="Only this Telegram user id.")
]
StarsArgs = {"min": 1, "max": STARS_LIMIT}
ReasonOption = Annotated[
    str, typer.Option(help="Why; kept with the change (who and when too).", show_default=False)
]  # Star amounts: positive, within the column

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `1d`, `1w` ago, or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _AGO.match(text.strip().lower())
    if match:
        try:
            return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
        except OverflowError:  # before the year 1
            raise typer.BadParameter(f"{text!r} reaches back before the year 1") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a duration like 2h, 30m, 1d nor an ISO date like 2026-01-31"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def split_assignments(option: str, items: Sequence[str]) -> list[tuple[str, str]]:
    """`key=value` strings as pairs. Raises: UsageError naming the option."""
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(option, f"{item!r} is not KEY=VALUE")
        pairs.append((key.strip(), value))
    return pairs


def cli_actor() -> str:
    """Who runs this command, as operator actions record it: `cli:<login>`."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's uid without a passwd entry)
        login = f"uid{os.getuid()}"
    return f"cli:{login}"


def with_runtime(call: Callable[[Runtime], Awaitable[T]], *, check_schema: bool = True) -> T:
    """Load settings, open the runtime, run `call` in it, close everything."""

    async def run() -> T:
        # Imported here: pydantic-settings and the store cost more than `trt --help` may.
        from trt.runtime import open_runtime
        from trt.settings import load_settings

        async with open_runtime(load_settings(), check_schema=check_schema) as rt:
            return await call(rt)

    return asyncio.run(run())


def with_services(call: Callable[[Services], Awaitable[T]]) -> T:
    """Like `with_runtime`, with the whole pipeline (registry, KIE client, bot if configured)."""

    async def run() -> T:
        from trt.runtime import open_services
        from trt.settings import load_settings

        async with open_services(load_settings()) as services:
            return await call(services)

    return asyncio.run(run())
