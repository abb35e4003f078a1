from __future__ import annotations

import json

from tests.conftest import CliInvoke


class TestCreate:
    def test_create_and_list(self, trt: CliInvoke, seeded) -> None:
        """A created code is listed with its Stars, uses and expiry."""
        made = trt("promo", "create", "spring", "--stars", "25", "--uses", "10",
                   "--expires", "2999-01-01", "--new-users-only")  # fmt: skip
        assert made.exit_code == 0, made.output
        assert "promo code SPRING: 25 ⭐, 10 uses" in made.output
        [code] = json.loads(trt("promo", "list", "--json").stdout)["codes"]
        assert (code["code"], code["stars"], code["uses"], code["used"]) == ("SPRING", 25, 10, 0)
        assert (code["expires_at"], code["new_users_only"]) == ("2999-01-01T00:00:00+00:00", True)

    def test_duplicate_code_is_refused(self, trt: CliInvoke, seeded) -> None:
        """The same code twice exits 4 naming it."""
        trt("promo", "create", "DUP", "--stars", "5")
        again = trt("promo", "create", "dup", "--stars", "5")
        assert (again.exit_code, "DUP exists already" in again.output) == (4, True)

    def test_bad_values_are_usage_errors(self, trt: CliInvoke, seeded) -> None:
        """A malformed code, a zero amount or zero uses exit 2."""
        for args in (("a!", "--stars", "5"), ("OK1", "--stars", "0"),
                     ("OK2", "--stars", "5", "--uses", "0")):  # fmt: skip
            assert trt("promo", "create", *args).exit_code == 2

    def test_bad_expiry_is_refused(self, trt: CliInvoke, seeded) -> None:
        """--expires must be an ISO date."""
        result = trt("promo", "create", "X12", "--stars", "5", "--expires", "soon")
        assert result.exit_code == 2


class TestDisable:
    def test_disable_marks_the_code(self, trt: CliInvoke, seeded) -> None:
        """A disabled code is listed as disabled."""
        trt("promo", "create", "OFF1", "--stars", "5")
        result = trt("promo", "disable", "off1")
        assert result.exit_code == 0, result.output
        assert "OFF1 is disabled" in result.output
        assert "disabled" in trt("promo", "list").output

    def test_unknown_code(self, trt: CliInvoke, seeded) -> None:
        """Disabling an unknown code exits 3."""
        assert trt("promo", "disable", "NOPE").exit_code == 3


class TestStates:
    def test_list_shows_each_codes_state(self, trt: CliInvoke, seeded) -> None:
        """Expired and used-up codes were listed as "active": each shows its state."""
        import asyncio

        from tests.cli.conftest import ALICE
        from trt.settings import DEFAULT_DATABASE_URL
        from trt.store.sql import open_store

        async def use(code: str) -> None:
            async with open_store(DEFAULT_DATABASE_URL) as store:
                await store.promo.redeem(code, ALICE)

        assert (
            trt("promo", "create", "OLD1", "--stars", "5", "--expires", "2001-01-01").exit_code
            == 0
        )
        trt("promo", "create", "ONCE", "--stars", "5", "--uses", "1")
        asyncio.run(use("ONCE"))
        trt("promo", "create", "OFF2", "--stars", "5")
        trt("promo", "disable", "OFF2")
        trt("promo", "create", "LIVE", "--stars", "5", "--uses", "9")
        codes = json.loads(trt("promo", "list", "--json").stdout)["codes"]
        assert {c["code"]: c["state"] for c in codes} == {
            "OLD1": "expired", "ONCE": "used up", "OFF2": "disabled", "LIVE": "active",
        }  # fmt: skip
        table = trt("promo", "list").output
        assert any("OLD1" in ln and "expired" in ln for ln in table.splitlines())
        assert any("ONCE" in ln and "used up" in ln for ln in table.splitlines())
