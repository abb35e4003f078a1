"""All terminal output of the CLI: data on stdout, diagnostics on stderr."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status


# The consoles are made on first use: importing rich costs ~30 ms that `trt --help` and
# `--json` output do without.
@cache
def _out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


UNLIMITED = 100_000  # columns: a table's natural width when output is not a terminal


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def error(message: str) -> None:
    _err().print(f"[bold red]error:[/] {escape(message)}")


def warn(message: str) -> None:
    _err().print(f"[yellow]warning:[/] {escape(message)}")


def info(message: str) -> None:
    _err().print(escape(message))


def success(message: str) -> None:
    _out().print(f"[green]✓[/] {escape(message)}")


def line(text: str = "") -> None:
    """A plain line of data on stdout."""
    _out().print(escape(text))


def fields(pairs: Sequence[tuple[str, object]]) -> None:
    """A record as aligned `name: value` lines."""
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        _out().print(f"[bold]{escape(key.ljust(width))}[/]  {escape(_cell(value))}")


def table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> None:
    from rich.table import Table

    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(escape(_cell(v)) for v in row))
    out = _out()
    if out.is_terminal:
        out.print(grid)
        return
    # Piped or redirected: rich would fold cells at 80 columns and break ids across lines,
    # so the table gets the width it needs.
    natural = out.measure(grid, options=out.options.update_width(UNLIMITED)).maximum
    width, out.width = out.width, max(natural, out.width)
    try:
        out.print(grid)
    finally:
        out.width = width


def json_out(data: Any) -> None:
    """Machine-readable output: one JSON document, no markup, stable key order."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def csv_rows(
    header: Sequence[str], output: Path | None
) -> Iterator[Callable[[Sequence[object]], None]]:
    """A CSV document with `header`, to stdout or to `output`: yields a function writing
    one row (None as an empty cell). The file appears complete or not at all."""
    if output is None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        yield writer.writerow
        return
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    try:
        with partial.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            yield writer.writerow
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def status(message: str) -> Iterator[Status]:
    with _err().status(escape(message)) as live:
        yield live


def _cell(value: object) -> str:
    return "—" if value is None else str(value)
