"""`trt payments export` and `trt jobs export`: CSV that parses back to the rows, on
SQLite and Postgres."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from pathlib import Path

from tests.cli.conftest import ALICE, BOB
from tests.conftest import CliInvoke
from trt.domain import PaymentStatus
from trt.records import NewPayment
from trt.store.sql import open_store


async def _pay(url: str) -> None:
    async with open_store(url) as store:
        for n, (user, note) in enumerate(((ALICE, None), (BOB, 'says "hi", then\nleaves'))):
            await store.payments.record(
                NewPayment(f"ch-{n}", f"prov-{n}", user, 25 * (n + 1), "XTR", f"secret-p{n}",
                           note=note)
            )  # fmt: skip


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


class TestPaymentsExport:
    def test_rows_parse_back(self, trt: CliInvoke, seeded_any, store_url: str) -> None:
        """Each payment once, oldest first, quoting intact; no invoice payload."""
        asyncio.run(_pay(store_url))
        result = trt("payments", "export", "--csv")
        assert result.exit_code == 0, result.output
        rows = _rows(result.stdout)
        assert [(r["charge_id"], r["user_id"], r["amount"], r["status"]) for r in rows] == [
            ("ch-0", "111", "25", PaymentStatus.PAID.value), ("ch-1", "222", "50", "paid"),
        ]  # fmt: skip
        assert rows[1]["note"] == 'says "hi", then\nleaves'
        assert rows[0]["refunded_at"] == ""
        assert datetime.fromisoformat(rows[0]["created_at"]).utcoffset() is not None
        assert "secret-p" not in result.stdout

    def test_since_and_output_file(
        self, trt: CliInvoke, seeded_any, store_url: str, tmp_path: Path
    ) -> None:
        """--since in the future leaves only the header; --output writes the file."""
        asyncio.run(_pay(store_url))
        out = tmp_path / "payments.csv"
        result = trt("payments", "export", "--since", "2999-01-01", "--output", str(out))
        assert result.exit_code == 0, result.output
        assert "wrote 0 payments" in result.stdout
        assert out.read_text().splitlines()[0].startswith("id,charge_id,")
        assert _rows(out.read_text()) == []

    def test_a_bad_since_names_the_option(self, trt: CliInvoke, seeded_any) -> None:
        """A --since that is neither a duration nor a date is a usage error naming it."""
        result = trt("payments", "export", "--since", "yesterday")
        assert result.exit_code == 2 and "--since" in result.output


class TestJobsExport:
    def test_rows_parse_back(self, trt: CliInvoke, seeded_any) -> None:
        """The seeded jobs, oldest first, with state, price and ISO times; no prompts."""
        result = trt("jobs", "export")
        assert result.exit_code == 0, result.output
        rows = _rows(result.stdout)
        assert [(r["id"], r["user_id"], r["state"], r["price_stars"]) for r in rows] == [
            (seeded_any["done"], "111", "succeeded", "12"),
            (seeded_any["waiting"], "222", "held", "60"),
        ]
        assert rows[0]["kie_task_id"] == "task-abc"
        assert datetime.fromisoformat(rows[1]["updated_at"]).utcoffset() is not None
        assert "a cat" not in result.stdout and "files.example" not in result.stdout

    def test_output_file_matches_stdout(self, trt: CliInvoke, seeded_any, tmp_path: Path) -> None:
        """The file holds the same rows as stdout would, and nothing else is left."""
        out = tmp_path / "jobs.csv"
        assert trt("jobs", "export", "-o", str(out)).exit_code == 0
        assert _rows(out.read_text()) == _rows(trt("jobs", "export").stdout)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".jobs")) == []
