"""The undelivered share of a job that brought back fewer results than it was sold for."""

from __future__ import annotations

from decimal import Decimal

from trt.catalog.paths import default_registry_dir
from trt.catalog.pricing import Pricing, credits_for
from trt.catalog.registry import Registry
from trt.core.shortfall import undelivered_share

MODEL = "wan/2-7-image"
FOUR = {"prompt": "a cat", "n": 4}


def pricing(markup: str) -> Pricing:
    return Pricing(usd_per_credit=Decimal("0.005"), usd_per_star=Decimal("0.013"),
                   markup=Decimal(markup))  # fmt: skip


def test_the_count_delivered_costs_its_registry_price() -> None:
    """4 paid, 1 came: the price of 1 is kept, the rest goes back."""
    spec, sold = Registry.load(default_registry_dir()).get(MODEL), pricing("1.5")
    price = sold.stars(credits_for(spec, FOUR))
    one = sold.stars(credits_for(spec, {**FOUR, "n": 1}))
    assert undelivered_share(spec, FOUR, delivered=1, price=price, pricing=sold) == (
        4, price - one,
    )  # fmt: skip


def test_a_markup_changed_meanwhile_does_not_move_the_refund() -> None:
    """Sold at markup 3, reset to 1.5 before it settled: the share is figured at 3 (at 1.5
    the user would get back Stars they were never charged at that rate)."""
    spec = Registry.load(default_registry_dir()).get(MODEL)
    price = pricing("3").stars(credits_for(spec, FOUR))
    one_then = pricing("3").stars(credits_for(spec, {**FOUR, "n": 1}))
    owed = undelivered_share(spec, FOUR, delivered=1, price=price, pricing=pricing("1.5"))
    assert owed is not None
    assert abs(owed[1] - (price - one_then)) <= 1  # the job's own rate, rounded up
    now = pricing("1.5")
    assert owed[1] < price - now.stars(credits_for(spec, {**FOUR, "n": 1}))
