from __future__ import annotations

import json

from tests.conftest import CliInvoke


class TestUsersBan:
    def test_ban_and_unban(self, trt: CliInvoke, seeded) -> None:
        """`trt users ban` sets the flag the bot checks; `unban` clears it."""
        result = trt("users", "ban", "222", "--reason", "chargebacks")
        assert result.exit_code == 0, result.output
        assert json.loads(trt("users", "show", "222", "--json").stdout)["user"]["is_banned"]
        assert trt("users", "unban", "222", "--reason", "appealed").exit_code == 0
        assert not json.loads(trt("users", "show", "222", "--json").stdout)["user"]["is_banned"]

    def test_unknown_user(self, trt: CliInvoke, seeded) -> None:
        """Banning an unknown user exits 3."""
        assert trt("users", "ban", "999", "--reason", "spam").exit_code == 3

    def test_a_ban_needs_a_reason(self, trt: CliInvoke, seeded) -> None:
        """Without --reason nothing changes: a usage error naming the option."""
        result = trt("users", "ban", "222")
        assert result.exit_code == 2
        assert "--reason" in result.output
        assert not json.loads(trt("users", "show", "222", "--json").stdout)["user"]["is_banned"]
