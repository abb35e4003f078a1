"""`trt db backup`: a consistent copy of the database, taken while the server writes.

SQLite: the online backup API (stdlib sqlite3, on a connection of its own) copies a
snapshot in one step, so the copy is consistent however busy the server is. Postgres:
`pg_dump` when it is installed (its custom format, for `pg_restore`), with the password
handed over in its environment, never on its command line.

Either way the copy is written beside the target and renamed onto it when complete, so
an interrupted backup never leaves a half-written file under the target's name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from trt.errors import BackupFailed, DatabaseMissing, UsageError
from trt.settings import describe_database
from trt.store.engine import SQLITE_BUSY_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Backup:
    source: str  # where the database is, without a password
    target: Path
    size: int  # bytes written
    tool: str  # "sqlite backup API" or "pg_dump"


def backup(url: str, target: Path, *, force: bool = False) -> Backup:
    """Copy the database at `url` to `target`.

    Raises: UsageError (target exists without `force`, or its folder does not),
    DatabaseMissing, BackupFailed.
    """
    _check_target(target, force=force)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    parsed = make_url(url)
    try:
        tool = _sqlite(parsed, partial) if url.startswith("sqlite") else _pg_dump(parsed, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(describe_database(url), target, target.stat().st_size, tool)


def _check_target(target: Path, *, force: bool) -> None:
    if target.is_dir():
        raise UsageError("FILE", f"{target} is a folder; name the backup file")
    if target.exists() and not force:
        raise UsageError("FILE", f"{target} exists; --force overwrites it")
    if not target.parent.is_dir():
        raise UsageError("FILE", f"folder {target.parent} does not exist")


def _sqlite(url: URL, partial: Path) -> str:
    database = url.database
    if database in (None, "", ":memory:"):
        raise BackupFailed("an in-memory database lives only in its process")
    assert database is not None
    if not Path(database).is_file():
        raise DatabaseMissing(database)
    source = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        copy = sqlite3.connect(partial)
        try:
            # All pages in one step: the copy is one snapshot, taken under a read lock
            # that WAL lets the server's writes go on beside.
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite: {exc}") from None
    finally:
        source.close()
    return "sqlite backup API"


def _pg_dump(url: URL, partial: Path) -> str:
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupFailed(
            "pg_dump is not on PATH; install the PostgreSQL client (the server's major "
            "version or newer) or run pg_dump yourself (README: Backups and exports)"
        )
    argv = [program, "--format=custom", "--no-owner", f"--file={partial}", "--dbname",
            url.database or ""]  # fmt: skip
    for flag, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            argv += [flag, str(value)]
    done = subprocess.run(argv, env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        if url.password:
            first = first.replace(url.password, "***")
        raise BackupFailed(f"pg_dump exited with {done.returncode}: {first}")
    return "pg_dump"


def _pg_env(url: URL) -> dict[str, str]:
    """libpq's variables for what argv must not show: the password, and TLS (asyncpg's
    `ssl` query parameter is libpq's sslmode)."""
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    ssl = url.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return env
