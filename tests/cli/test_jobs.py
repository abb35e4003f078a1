from __future__ import annotations

import asyncio
import json

from syrupy.assertion import SnapshotAssertion

from tests.cli.conftest import scrub
from tests.conftest import CliInvoke
from trt.domain import JobId
from trt.settings import DEFAULT_DATABASE_URL
from trt.store.sql import open_store


class TestJobsList:
    def test_table_lists_newest_first(self, trt: CliInvoke, seeded, snapshot: SnapshotAssertion):
        """The table shows every job, newest first, with user, model, state and price."""
        result = trt("jobs", "list")
        assert result.exit_code == 0, result.output
        assert scrub(result.output) == snapshot
        assert result.output.index("veo3_fast") < result.output.index("google/nano-banana")

    def test_json_has_stable_fields(self, trt: CliInvoke, seeded: dict[str, JobId]) -> None:
        """`--json` returns the documented fields and no next page when all fit."""
        result = trt("jobs", "list", "--json")
        data = json.loads(result.stdout)
        assert [j["id"] for j in data["jobs"]] == [seeded["waiting"], seeded["done"]]
        assert data["next_before"] is None
        first = data["jobs"][1]
        assert first["state"] == "succeeded"
        assert first["price_stars"] == 12
        assert first["result_urls"] == ["https://files.example/cat.png"]
        assert first["created_at"].endswith("+00:00")

    def test_filters(self, trt: CliInvoke, seeded: dict[str, JobId]) -> None:
        """User, state and model filters each narrow the list."""

        def ids(*args: str) -> list[str]:
            return [
                j["id"] for j in json.loads(trt("jobs", "list", "--json", *args).stdout)["jobs"]
            ]

        assert ids("--user", "222") == [seeded["waiting"]]
        assert ids("--state", "succeeded") == [seeded["done"]]
        assert ids("--model", "google/nano-banana") == [seeded["done"]]
        assert ids("--since", "1h") == [seeded["waiting"], seeded["done"]]
        assert ids("--since", "2999-01-01") == []

    def test_limit_gives_a_cursor_for_the_next_page(self, trt: CliInvoke, seeded) -> None:
        """With --limit 1 the JSON carries the cursor that fetches the next job."""
        first = json.loads(trt("jobs", "list", "--json", "--limit", "1").stdout)
        assert first["next_before"] == seeded["waiting"]
        second = json.loads(
            trt("jobs", "list", "--json", "--limit", "1", "--before", first["next_before"]).stdout
        )
        assert [j["id"] for j in second["jobs"]] == [seeded["done"]]

    def test_malformed_since_is_a_usage_error(self, trt: CliInvoke, seeded) -> None:
        """A --since that is neither a duration nor a date names the option, exit 2."""
        result = trt("jobs", "list", "--since", "yesterday")
        assert result.exit_code == 2
        assert "--since" in result.output

    def test_unknown_state_lists_the_allowed_ones(self, trt: CliInvoke, seeded) -> None:
        """An unknown --state is refused with the states that exist."""
        result = trt("jobs", "list", "--state", "lost")
        assert result.exit_code == 2
        assert "delivered" in result.output

    def test_unmigrated_database_says_which_command_fixes_it(self, trt: CliInvoke) -> None:
        """On a fresh database the command fails with `trt db upgrade` in the message."""
        result = trt("jobs", "list")
        assert result.exit_code == 75
        assert "run `trt db upgrade`" in result.output
        assert "Traceback" not in result.output


class TestJobsShow:
    def test_shows_timeline_and_ledger(self, trt: CliInvoke, seeded, snapshot: SnapshotAssertion):
        """A job's page shows its fields, every transition and its money movements."""
        result = trt("jobs", "show", seeded["done"])
        assert result.exit_code == 0, result.output
        assert scrub(result.output) == snapshot

    def test_find_by_kie_task_id_as_json(self, trt: CliInvoke, seeded: dict[str, JobId]) -> None:
        """A KIE task id finds the job; JSON lists events in order and both ledger rows."""
        data = json.loads(trt("jobs", "show", "task-abc", "--json").stdout)
        assert data["job"]["id"] == seeded["done"]
        assert [e["to_state"] for e in data["events"]] == [
            "quoted", "held", "submitting", "submitted", "succeeded",
        ]  # fmt: skip
        assert [(e["kind"], e["amount"]) for e in data["ledger"]] == [("hold", 12), ("charge", 12)]

    def test_shows_what_kie_charged_beside_the_quote(
        self, trt: CliInvoke, seeded: dict[str, JobId]
    ) -> None:
        """A job KIE stated a cost for shows it and where it came from, in JSON too."""

        async def charged() -> None:
            async with open_store(DEFAULT_DATABASE_URL) as store:
                assert await store.costs.record_late(seeded["done"], 12.0)

        asyncio.run(charged())
        assert "KIE charged  12 (from the callback)" in trt("jobs", "show", "task-abc").output
        job = json.loads(trt("jobs", "show", "task-abc", "--json").stdout)["job"]
        assert (job["real_credits"], job["credits_source"]) == (12.0, "callback")

    def test_unknown_job_is_not_found(self, trt: CliInvoke, seeded) -> None:
        """An unknown id exits 3 and names what was looked up."""
        result = trt("jobs", "show", "NOPE")
        assert result.exit_code == 3
        assert "job not found: NOPE" in result.output


class TestUnreachableDatabase:
    def test_one_line_naming_the_host_never_the_password(self, trt: CliInvoke) -> None:
        """A database nobody answers for: exit 69, the host named, the password absent."""
        url = "postgresql://support:hunter2-SECRET@127.0.0.1:1/trt"
        result = trt("jobs", "list", env={"DATABASE_URL": url})
        assert result.exit_code == 69
        assert "127.0.0.1:1/trt" in result.output
        assert "hunter2" not in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
