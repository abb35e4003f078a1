"""`trt broadcast` on SQLite and Postgres: queue, dry run, status, list, cancel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import CliInvoke
from tests.store.conftest import postgres_url
from trt.domain import TgUserId
from trt.settings import normalise_database_url
from trt.store.engine import create_database
from trt.store.sql import open_store
from trt.store.tables import metadata

RU, EN, OUT = TgUserId(11), TgUserId(22), TgUserId(33)


async def _empty(url: str) -> None:
    db = create_database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await db.dispose()


async def _seed(url: str) -> None:
    async with open_store(url) as store:
        await store.users.ensure(RU, language="ru")
        await store.users.ensure(EN, language="en")
        await store.users.ensure(OUT, language="en")
        await store.users.set_broadcast_opt_out(OUT, True)


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, trt: CliInvoke, tmp_path: Path) -> dict[str, str]:
    """A migrated database with three users (one opted out), as DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trt.db'}"
    else:
        url = postgres_url()
        asyncio.run(_empty(url))
    env = {"DATABASE_URL": url}
    assert trt("db", "upgrade", env=env).exit_code == 0
    asyncio.run(_seed(normalise_database_url(url)))
    return env


class TestQueue:
    def test_queued_without_a_server(self, trt: CliInvoke, env: dict[str, str]) -> None:
        """Every user is a recipient; with no server running the command says when it goes."""
        result = trt("broadcast", "--text", "<b>New</b> models", env=env)
        assert result.exit_code == 0, result.output
        assert "broadcast 1 queued for 3 users (language: all)" in result.output
        assert "no server is running: it will be sent when `trt serve` runs" in result.output
        status = json.loads(trt("broadcast", "status", "1", "--json", env=env).stdout)
        assert (status["state"], status["total"], status["text"]) == (
            "queued", 3, "<b>New</b> models",
        )  # fmt: skip
        assert status["counts"] == {"pending": 3}
        assert status["created_by"].startswith("cli")

    def test_from_a_file_for_one_language(
        self, trt: CliInvoke, env: dict[str, str], tmp_path: Path
    ) -> None:
        message = tmp_path / "news.html"
        message.write_text("Новые модели\n<i>уже здесь</i>\n", encoding="utf-8")
        result = trt("broadcast", "--file", str(message), "--lang", "ru", env=env)
        assert result.exit_code == 0, result.output
        [listed] = json.loads(trt("broadcast", "list", "--json", env=env).stdout)
        assert (listed["language"], listed["total"]) == ("ru", 1)
        assert listed["text"] == "Новые модели\n<i>уже здесь</i>"

    def test_dry_run_stores_nothing(self, trt: CliInvoke, env: dict[str, str]) -> None:
        """A dry run counts who would get it now (not the opted-out user) and shows it."""
        result = trt("broadcast", "--text", "Hello &amp; welcome", "--dry-run", env=env)
        assert result.exit_code == 0, result.output
        assert "would reach 2 users (language: all); nothing stored or sent" in result.output
        assert "Hello &amp; welcome" in result.stdout
        assert json.loads(trt("broadcast", "list", "--json", env=env).stdout) == []


class TestRefusals:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--text", "<b>unclosed"], "broadcast text: <b> is never closed"),
            (["--text", "x" * 4097], "broadcast text: 4097 characters; Telegram takes at most"),
            (["--text", "<script>x</script>"], "<script> is not a tag Telegram supports"),
            (["--text", "hi", "--lang", "de"], "--lang: 'de' is not one of ru, en"),
            (["--text", "hi", "--file", "x.txt"], "--text/--file: give exactly one"),
            (["--file", "missing.txt"], "--file: cannot read missing.txt"),
        ],
    )
    def test_one_clear_line(
        self, trt: CliInvoke, env: dict[str, str], args: list[str], message: str
    ) -> None:
        """Bad input: exit 2, one line naming what is wrong, nothing stored."""
        result = trt("broadcast", *args, env=env)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert json.loads(trt("broadcast", "list", "--json", env=env).stdout) == []


class TestCancel:
    def test_cancel_then_again(self, trt: CliInvoke, env: dict[str, str]) -> None:
        """Cancelling stops it; a second cancel says it is over (exit 4); unknown: exit 3."""
        trt("broadcast", "--text", "Hi", env=env)
        result = trt("broadcast", "cancel", "1", env=env)
        assert result.exit_code == 0, result.output
        assert "broadcast 1 cancelled: 0 sent, 3 not sent" in result.output
        status = json.loads(trt("broadcast", "status", "1", "--json", env=env).stdout)
        assert (status["state"], status["cancelled_by"][:3]) == ("cancelled", "cli")
        again = trt("broadcast", "cancel", "1", env=env)
        assert (again.exit_code, again.output.strip()) == (
            4, "error: broadcast 1 is cancelled already",
        )  # fmt: skip
        assert trt("broadcast", "cancel", "9", env=env).exit_code == 3
        audit = json.loads(trt("audit", "list", "--json", env=env).stdout)["actions"]
        assert [(a["action"], a["subject"]) for a in audit] == [
            ("broadcast.cancel", "1"), ("broadcast.queue", "1"),
        ]  # fmt: skip
        assert audit[1]["detail"] == {"language": "all", "recipients": 3, "text": "Hi"}

    def test_status_of_the_newest(self, trt: CliInvoke, env: dict[str, str]) -> None:
        trt("broadcast", "--text", "One", env=env)
        trt("broadcast", "--text", "Two", "--lang", "en", env=env)
        result = trt("broadcast", "status", env=env)
        assert result.exit_code == 0, result.output
        lines = dict(line.split(None, 1) for line in result.output.strip().splitlines())
        assert (lines["id"], lines["language"], lines["recipients"]) == ("2", "en", "2")
        assert lines["pending"] == "2"

    def test_status_with_none(self, trt: CliInvoke, env: dict[str, str]) -> None:
        result = trt("broadcast", "status", env=env)
        assert result.exit_code == 3
        assert "broadcast not found" in result.output
