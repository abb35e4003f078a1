"""`trt db backup FILE`: a copy that opens as the database, on SQLite and Postgres; the
Postgres password goes to pg_dump in its environment, never on its command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.conftest import CliInvoke

SECRET_URL = "postgresql://support:hunter2-SECRET@127.0.0.1:5999/trt?sslmode=require"
FAKE_PG_DUMP = """#!/bin/sh
printf '%s\\n' "$@" > "{log}/argv"
printf '%s %s' "$PGPASSWORD" "$PGSSLMODE" > "{log}/env"
for arg in "$@"; do
  case "$arg" in --file=*) : > "${{arg#--file=}}" ;; esac
done
{tail}
"""


def _fake_pg_dump(folder: Path, tail: str = "exit 0") -> Path:
    folder.mkdir()
    script = folder / "pg_dump"
    script.write_text(FAKE_PG_DUMP.format(log=folder, tail=tail))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


class TestBackup:
    def test_the_copy_opens_as_the_database(
        self, trt: CliInvoke, seeded_any, store_url: str, tmp_path: Path
    ) -> None:
        """SQLite: the copy, as DATABASE_URL, shows the same users. Postgres: pg_dump's
        custom-format archive."""
        target = tmp_path / "copy.bak"
        result = trt("db", "backup", str(target))
        assert result.exit_code == 0, result.output
        if store_url.startswith("sqlite"):
            assert result.stdout.endswith(" bytes, sqlite backup API)\n")
            live = json.loads(trt("users", "list", "--json").stdout)
            copy = trt("users", "list", "--json", env={"DATABASE_URL": f"sqlite:///{target}"})
            assert json.loads(copy.stdout) == live
        else:
            assert result.stdout.endswith(" bytes, pg_dump)\n")
            assert target.read_bytes()[:5] == b"PGDMP"

    def test_an_existing_file_needs_force(
        self, trt: CliInvoke, seeded_any, store_url: str, tmp_path: Path
    ) -> None:
        """Without --force an existing file is kept and the error says how; with it, replaced."""
        target = tmp_path / "copy.db"
        target.write_text("keep me")
        result = trt("db", "backup", str(target))
        assert result.exit_code == 2
        assert f"error: FILE: {target} exists; --force overwrites it" in result.output
        assert target.read_text() == "keep me"
        assert trt("db", "backup", str(target), "--force").exit_code == 0
        magic = b"SQLite format 3" if store_url.startswith("sqlite") else b"PGDMP"
        assert target.read_bytes().startswith(magic)

    def test_a_missing_folder(self, trt: CliInvoke, seeded_any, tmp_path: Path) -> None:
        """A target in a folder that does not exist: a usage error, nothing made."""
        result = trt("db", "backup", str(tmp_path / "nope" / "copy.db"))
        assert result.exit_code == 2 and "does not exist" in result.output


class TestPgDump:
    def test_the_password_stays_off_the_command_line(
        self, trt: CliInvoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """pg_dump gets host, port, user and database as arguments; the password and
        TLS mode in PGPASSWORD and PGSSLMODE; the output never shows the password."""
        bin_dir = _fake_pg_dump(tmp_path / "bin")
        monkeypatch.setenv("PATH", str(bin_dir))
        monkeypatch.setenv("DATABASE_URL", SECRET_URL)
        result = trt("db", "backup", str(tmp_path / "x.dump"))
        assert result.exit_code == 0, result.output
        argv = (bin_dir / "argv").read_text().splitlines()
        assert "hunter2-SECRET" not in " ".join(argv)
        assert argv[argv.index("--host") + 1 :] == ["127.0.0.1", "--port", "5999",
                                                    "--username", "support"]  # fmt: skip
        assert (bin_dir / "env").read_text() == "hunter2-SECRET require"
        assert "hunter2" not in result.output

    def test_a_failing_pg_dump_is_one_line_without_the_password(
        self, trt: CliInvoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """pg_dump's first error line, the password masked, exit 69; no file is left."""
        tail = 'echo "connection to support:hunter2-SECRET refused" >&2; exit 1'
        bin_dir = _fake_pg_dump(tmp_path / "bin", tail)
        monkeypatch.setenv("PATH", str(bin_dir))
        monkeypatch.setenv("DATABASE_URL", SECRET_URL)
        result = trt("db", "backup", str(tmp_path / "x.dump"))
        assert result.exit_code == 69
        assert result.output.strip() == (
            "error: no backup made: pg_dump exited with 1: connection to support:*** refused"
        )
        assert not any(p.name.endswith(".dump") or "partial" in p.name
                       for p in tmp_path.iterdir())  # fmt: skip

    def test_without_pg_dump_a_pointer_to_the_docs(
        self, trt: CliInvoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No pg_dump installed: exit 69 and where to read how to back up by hand."""
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setenv("DATABASE_URL", SECRET_URL)
        result = trt("db", "backup", str(tmp_path / "x.dump"))
        assert result.exit_code == 69
        assert "pg_dump is not on PATH" in result.output and "README" in result.output
