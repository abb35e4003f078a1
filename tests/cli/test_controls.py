"""`trt models`, `trt maintenance` and `trt audit` on SQLite and Postgres."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import text, update

from tests.conftest import CliInvoke
from tests.store.conftest import postgres_url
from trt.settings import DEFAULT_DATABASE_URL
from trt.store.engine import create_database
from trt.store.sql import open_store
from trt.store.tables import jobs, metadata

MODEL = "google/nano-banana"


async def _drop_everything(url: str) -> None:
    db = create_database(url, must_exist=False)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def migrated(request: pytest.FixtureRequest, trt: CliInvoke, monkeypatch: pytest.MonkeyPatch):
    """An empty database migrated by `trt db upgrade`: the default SQLite file, or Postgres."""
    if request.param == "postgres":
        url = postgres_url()
        asyncio.run(_drop_everything(url))
        monkeypatch.setenv("DATABASE_URL", url)
    result = trt("db", "upgrade")
    assert result.exit_code == 0, result.output


def models_json(trt: CliInvoke) -> dict[str, dict[str, Any]]:
    result = trt("models", "list", "--json")
    assert result.exit_code == 0, result.output
    return {m["id"]: m for m in json.loads(result.stdout)["models"]}


@pytest.mark.usefixtures("migrated")
class TestModels:
    def test_list_shows_registry_prices_and_no_sales(self, trt: CliInvoke) -> None:
        """Every visible model is listed enabled at the global markup with its prices."""
        row = models_json(trt)[MODEL]
        assert (row["state"], row["markup"], row["own_markup"]) == ("enabled", "1.5", False)
        assert (row["default_stars"], row["from_stars"], row["jobs"], row["stars_sold"]) == (
            3, 3, 0, 0,
        )  # fmt: skip
        assert row["real_credits"] is None  # the cost guard's column, empty until recorded

    def test_disable_and_enable(self, trt: CliInvoke) -> None:
        """Disable keeps its reason in the list; enable puts the model back on sale."""
        result = trt("models", "disable", MODEL, "--reason", "KIE broken")
        assert result.exit_code == 0, result.output
        assert "disabled: KIE broken" in result.output
        row = models_json(trt)[MODEL]
        assert (row["state"], row["reason"]) == ("disabled", "KIE broken")
        assert trt("models", "enable", MODEL).exit_code == 0
        assert models_json(trt)[MODEL]["state"] == "enabled"

    def test_markup_and_reset(self, trt: CliInvoke) -> None:
        """A model's own markup reprices it; --reset returns it to the global one."""
        assert trt("models", "markup", MODEL, "3").exit_code == 0
        row = models_json(trt)[MODEL]
        assert (row["markup"], row["own_markup"], row["default_stars"]) == ("3", True, 5)
        assert trt("models", "markup", MODEL, "--reset").exit_code == 0
        assert models_json(trt)[MODEL]["markup"] == "1.5"

    def test_unknown_id_names_the_nearest(self, trt: CliInvoke) -> None:
        """A mistyped id: one line with the closest ids, exit 3, nothing recorded."""
        result = trt("models", "disable", "google/nano-banan", "--reason", "x")
        assert result.exit_code == 3
        [line] = result.output.strip().splitlines()
        assert line.startswith("error: unknown model: google/nano-banan (did you mean: ")
        assert "google/nano-banana," in line
        assert json.loads(trt("audit", "list", "--json").stdout) == {"actions": []}

    @pytest.mark.parametrize("value", ["0.5", "11", "lots", "1.23456"])
    def test_bad_markup_names_the_range(self, trt: CliInvoke, value: str) -> None:
        """A markup out of range or not a number: exit 2, the allowed range named."""
        result = trt("models", "markup", MODEL, value)
        assert result.exit_code == 2
        assert "MARKUP:" in result.output and "from 1 to 10" in result.output
        assert "Traceback" not in result.output

    def test_markup_needs_a_value_or_reset(self, trt: CliInvoke) -> None:
        """Neither (or both) of a value and --reset is a usage error."""
        assert trt("models", "markup", MODEL).exit_code == 2
        assert trt("models", "markup", MODEL, "2", "--reset").exit_code == 2


@pytest.mark.usefixtures("migrated")
class TestMaintenance:
    def test_on_status_off(self, trt: CliInvoke) -> None:
        """On with a message, shown by status; off clears it."""
        assert trt("maintenance", "on", "--message", "Back at 10").exit_code == 0
        state = json.loads(trt("maintenance", "status", "--json").stdout)
        assert (state["on"], state["message"]) == (True, "Back at 10")
        assert state["by"].startswith("cli:")
        assert trt("maintenance", "off").exit_code == 0
        state = json.loads(trt("maintenance", "status", "--json").stdout)
        assert (state["on"], state["message"]) == (False, None)

    def test_status_before_any_switch(self, trt: CliInvoke) -> None:
        """A fresh database is not in maintenance."""
        result = trt("maintenance", "status")
        assert result.exit_code == 0, result.output
        assert "maintenance  off" in result.output


@pytest.mark.usefixtures("migrated")
class TestAudit:
    def test_every_change_is_listed_newest_first(self, trt: CliInvoke) -> None:
        """Disable, markup and maintenance each leave one row: who, what, on what, why."""
        trt("models", "disable", MODEL, "--reason", "margin")
        trt("models", "markup", MODEL, "1.8")
        trt("maintenance", "on")
        actions = json.loads(trt("audit", "list", "--json").stdout)["actions"]
        assert [(a["action"], a["subject"], a["reason"]) for a in actions] == [
            ("maintenance.on", None, None),
            ("model.markup", MODEL, None),
            ("model.disable", MODEL, "margin"),
        ]
        assert all(a["actor"].startswith("cli:") for a in actions)
        assert actions[1]["detail"] == {"markup": "1.8", "was": "global"}
        limited = json.loads(trt("audit", "list", "--limit", "1", "--json").stdout)
        assert len(limited["actions"]) == 1

    def test_empty_log(self, trt: CliInvoke) -> None:
        """Nothing recorded yet: one line says so."""
        result = trt("audit", "list")
        assert result.exit_code == 0
        assert "no operator actions recorded" in result.output


class TestSales:
    def test_charged_jobs_count_as_sales(self, trt: CliInvoke, seeded) -> None:
        """Alice's charged Nano Banana job (12 ⭐) is one sale; unsold models show none."""
        models = models_json(trt)
        assert (models[MODEL]["jobs"], models[MODEL]["stars_sold"]) == (1, 12)
        other = models["google/nano-banana-edit"]
        assert (other["jobs"], other["stars_sold"]) == (0, 0)

    def test_real_credits_show_beside_the_quote(
        self, trt: CliInvoke, seeded: dict[str, Any]
    ) -> None:
        """Once KIE's figure is recorded (quoted 4, consumed 6), the list shows it."""
        asyncio.run(_measure(seeded["done"], quoted=4.0, real=6.0))
        row = models_json(trt)[MODEL]
        assert (row["measured"], row["measured_quote"], row["real_credits"]) == (1, 4.0, 6.0)
        table = trt("models", "list").output
        assert "1.50× (1 of 1)" in table


async def _measure(job_id: Any, *, quoted: float, real: float) -> None:
    async with open_store(DEFAULT_DATABASE_URL) as store:
        async with store.db.transaction() as conn:
            await conn.execute(update(jobs).where(jobs.c.id == job_id).values(kie_credits=quoted))
        assert await store.costs.record_late(job_id, real)
