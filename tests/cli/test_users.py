from __future__ import annotations

import json

from syrupy.assertion import SnapshotAssertion

from tests.cli.conftest import scrub
from tests.conftest import CliInvoke


class TestUsersShow:
    def test_shows_balance_ledger_and_jobs(
        self, trt: CliInvoke, seeded, snapshot: SnapshotAssertion
    ):
        """A user's page shows balance, held, ledger rows and recent jobs."""
        result = trt("users", "show", "111")
        assert result.exit_code == 0, result.output
        assert scrub(result.output) == snapshot

    def test_json(self, trt: CliInvoke, seeded) -> None:
        """`--json` carries the balance and the newest ledger row first."""
        data = json.loads(trt("users", "show", "111", "--json").stdout)
        assert (data["user"]["balance"], data["user"]["held"]) == (88, 0)
        assert [e["kind"] for e in data["ledger"]] == ["charge", "hold", "topup"]
        assert len(data["jobs"]) == 1

    def test_unknown_user(self, trt: CliInvoke, seeded) -> None:
        """An unknown user exits 3 naming the id."""
        result = trt("users", "show", "999")
        assert (result.exit_code, "user not found: 999" in result.output) == (3, True)

    def test_non_numeric_id_is_a_usage_error(self, trt: CliInvoke, seeded) -> None:
        """A user id that is not a number is refused before anything runs."""
        result = trt("users", "show", "alice")
        assert result.exit_code == 2
        assert "'user_id'" in result.output.lower()


class TestUsersCredit:
    def test_grant_raises_the_balance(self, trt: CliInvoke, seeded) -> None:
        """A grant adds Stars and says the new balance."""
        result = trt("users", "credit", "222", "15", "--reason", "sorry")
        assert result.exit_code == 0, result.output
        assert "granted 15 ⭐ to user 222; balance now 15 ⭐" in result.output

    def test_repeated_key_grants_once(self, trt: CliInvoke, seeded) -> None:
        """The same --key twice moves Stars once and says nothing moved the second time."""
        trt("users", "credit", "222", "15", "--reason", "sorry", "--key", "T-1")
        again = trt("users", "credit", "222", "15", "--reason", "sorry", "--key", "T-1")
        assert again.exit_code == 0
        assert "nothing moved" in again.output
        data = json.loads(trt("users", "show", "222", "--json").stdout)
        assert data["user"]["balance"] == 15

    def test_zero_and_negative_amounts_are_refused(self, trt: CliInvoke, seeded) -> None:
        """Amounts must be positive; the error names the argument."""
        for amount in ("0", "-3"):
            result = trt("users", "credit", "--reason", "x", "222", "--", amount)
            assert result.exit_code == 2
            assert "'amount'" in result.output.lower()

    def test_reason_is_required(self, trt: CliInvoke, seeded) -> None:
        """A grant without --reason is refused."""
        result = trt("users", "credit", "222", "5")
        assert result.exit_code == 2
        assert "--reason" in result.output

    def test_unknown_user_gets_nothing(self, trt: CliInvoke, seeded) -> None:
        """Granting to a user who never started the bot fails and writes nothing."""
        result = trt("users", "credit", "999", "5", "--reason", "x")
        assert result.exit_code == 3
        assert "user not found: 999" in result.output
