from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import CliInvoke


class TestCurrent:
    def test_an_uninitialised_database_exits_75(self, trt: CliInvoke) -> None:
        """`db current` on a database without the schema says so and exits non-zero (75,
        as every command needing the schema does), so scripts can test it; 0 once upgraded.
        Where there is no database file at all it says that (and creates none)."""
        result = trt("db", "current")
        assert result.exit_code == 75, result.output
        assert "no database at" in result.output
        Path("data").mkdir()
        sqlite3.connect("data/trt.db").close()  # a database file without the schema
        result = trt("db", "current")
        assert result.exit_code == 75, result.output
        assert "not initialised" in result.output
        assert trt("db", "upgrade").exit_code == 0
        assert trt("db", "current").exit_code == 0

    def test_an_absolute_sqlite_path_keeps_its_slash(self, trt: CliInvoke, tmp_path: Path) -> None:
        """sqlite:////abs/path.db printed as abs/path.db pointed somewhere else entirely."""
        path = tmp_path / "abs.db"
        result = trt("db", "upgrade", env={"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
        assert result.exit_code == 0, result.output
        assert f"database {path} is at revision" in result.output

    def test_a_relative_sqlite_path_stays_relative(self, trt: CliInvoke) -> None:
        result = trt("db", "upgrade", env={"DATABASE_URL": "sqlite+aiosqlite:///rel.db"})
        assert "database rel.db is at revision" in result.output
