"""`trt users list/search/debit` and bans with a reason, on SQLite and Postgres."""

from __future__ import annotations

import json
import re

from tests.conftest import CliInvoke


def _ids(trt: CliInvoke, *args: str) -> list[int]:
    result = trt("users", *args, "--json")
    assert result.exit_code == 0, result.output
    return [u["id"] for u in json.loads(result.stdout)["users"]]


class TestList:
    def test_by_spent_and_by_joined(self, trt: CliInvoke, seeded_any) -> None:
        """Alice spent 12 ⭐ and comes first by spent; Bob joined last and comes first
        by joined; --limit cuts."""
        assert _ids(trt, "list") == [111, 222]
        assert _ids(trt, "list", "--sort", "joined") == [222, 111]
        assert _ids(trt, "list", "--sort", "joined", "--limit", "1") == [222]

    def test_json_fields(self, trt: CliInvoke, seeded_any) -> None:
        """The JSON row has the money and the flags, with an ISO join time."""
        [alice, _] = json.loads(trt("users", "list", "--json").stdout)["users"]
        assert {k: alice[k] for k in ("id", "username", "balance", "held", "spent")} == {
            "id": 111, "username": "alice", "balance": 88, "held": 0, "spent": 12,
        }  # fmt: skip
        assert alice["created_at"].endswith("+00:00")

    def test_table(self, trt: CliInvoke, seeded_any) -> None:
        """The table shows @username and the Stars columns."""
        result = trt("users", "list")
        assert result.exit_code == 0, result.output
        assert "@alice" in result.stdout and "12 ⭐" in result.stdout

    def test_a_wrong_sort_names_the_choices(self, trt: CliInvoke, seeded_any) -> None:
        """An unknown --sort is a usage error listing spent and joined."""
        result = trt("users", "list", "--sort", "money")
        assert result.exit_code == 2
        assert "'spent'" in result.output and "'joined'" in result.output


class TestSearch:
    def test_username_in_any_case_and_id(self, trt: CliInvoke, seeded_any) -> None:
        """Case-insensitive on the username; a number finds the id."""
        assert _ids(trt, "search", "ALI") == [111]
        assert _ids(trt, "search", "@Bob") == [222]
        assert _ids(trt, "search", "222") == [222]

    def test_nothing_found(self, trt: CliInvoke, seeded_any) -> None:
        """No match: an empty JSON list, and a note in the human form."""
        assert _ids(trt, "search", "zed") == []
        result = trt("users", "search", "zed")
        assert result.exit_code == 0 and "no users match" in result.output


class TestDebit:
    def test_takes_stars_back_into_the_ledger(self, trt: CliInvoke, seeded_any) -> None:
        """88 → 80, with a debit row carrying the reason and who did it."""
        result = trt("users", "debit", "111", "8", "--reason", "duplicate grant")
        assert result.exit_code == 0, result.output
        assert "took 8 ⭐ from user 111; balance now 80 ⭐" in result.stdout
        shown = json.loads(trt("users", "show", "111", "--json").stdout)
        entry = shown["ledger"][0]
        assert (entry["kind"], entry["balance_delta"]) == ("debit", -8)
        assert entry["reason"].startswith("duplicate grant (by cli:")

    def test_never_below_zero(self, trt: CliInvoke, seeded_any) -> None:
        """More than the balance: one line naming it, exit 4, nothing moved."""
        result = trt("users", "debit", "111", "89", "--reason", "x")
        assert result.exit_code == 4
        assert result.output.strip() == "error: user 111 has 88 ⭐ available, 89 ⭐ needed"
        assert json.loads(trt("users", "show", "111", "--json").stdout)["user"]["balance"] == 88

    def test_a_repeated_key_changes_nothing_and_says_so(self, trt: CliInvoke, seeded_any) -> None:
        """The same --key twice: the second debit moves nothing and says when the first was."""
        for _ in range(2):
            result = trt("users", "debit", "111", "5", "--reason", "x", "--key", "case-7")
            assert result.exit_code == 0, result.output
        assert "key debit:case-7 was used on" in result.output
        assert "nothing moved" in result.output
        assert json.loads(trt("users", "show", "111", "--json").stdout)["user"]["balance"] == 83

    def test_bad_amount_and_unknown_user(self, trt: CliInvoke, seeded_any) -> None:
        """Zero is a usage error naming the argument; an unknown user exits 3."""
        zero = trt("users", "debit", "111", "0", "--reason", "x")
        assert zero.exit_code == 2 and "'amount'" in zero.output
        assert trt("users", "debit", "999", "1", "--reason", "x").exit_code == 3


class TestBanReason:
    def test_show_tells_who_banned_and_why(self, trt: CliInvoke, seeded_any) -> None:
        """The reason, who and when stay on the user, for JSON and for people."""
        assert trt("users", "ban", "222", "--reason", "chargebacks").exit_code == 0
        user = json.loads(trt("users", "show", "222", "--json").stdout)["user"]
        assert (user["is_banned"], user["ban_reason"]) == (True, "chargebacks")
        assert user["ban_changed_by"].startswith("cli:") and user["ban_changed_at"]
        shown = trt("users", "show", "222").stdout
        assert re.search(r"^banned because +chargebacks$", shown, re.M)
        trt("users", "unban", "222", "--reason", "paid back")
        assert re.search(
            r"^unbanned because +paid back$", trt("users", "show", "222").stdout, re.M
        )


class TestAudited:
    def test_debit_ban_and_unban_are_in_the_audit_log(self, trt: CliInvoke, seeded_any) -> None:
        """Each support change is an operator action: who, what, on whom, why."""
        trt("users", "debit", "111", "5", "--reason", "chargeback", "--key", "cb-1")
        trt("users", "debit", "111", "5", "--reason", "chargeback", "--key", "cb-1")  # once
        trt("users", "ban", "222", "--reason", "abuse")
        trt("users", "unban", "222", "--reason", "appeal")
        actions = json.loads(trt("audit", "list", "--json").stdout)["actions"]
        assert [(a["action"], a["subject"], a["reason"]) for a in actions] == [
            ("user.unban", "222", "appeal"),
            ("user.ban", "222", "abuse"),
            ("user.debit", "111", "chargeback"),
        ]
        assert all(a["actor"].startswith("cli:") for a in actions)
        assert actions[2]["detail"]["stars"] == 5
