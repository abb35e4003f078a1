"""Fewer results than paid for: KIE may return 1 image of the 4 a job asked (and was
charged) for. The undelivered share goes back: the price for the count delivered, from the
registry, is what the job should have cost (at the markup the job was sold at)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

from trt.catalog.kinds import InputType
from trt.catalog.pricing import Pricing, credits_for
from trt.catalog.spec import InputSpec, ModelSpec
from trt.errors import RegistryError

# Inputs that say how many results one job makes (wan "n", qwen/ideogram "num_images").
COUNT_INPUTS = ("n", "num_images")


def count_input(spec: ModelSpec) -> InputSpec | None:
    return next((i for n in COUNT_INPUTS if (i := spec.input(n)) is not None), None)


def undelivered_share(
    spec: ModelSpec, params: Mapping[str, Any], *, delivered: int, price: int, pricing: Pricing
) -> tuple[int, int] | None:
    """(results paid for, Stars to give back) when fewer than paid for came back; None when
    nothing is owed (all came, none came — a failure releases it all —, or no count)."""
    inp = count_input(spec)
    if inp is None:
        return None
    try:
        paid = int(params.get(inp.name, inp.default))
    except (TypeError, ValueError):
        return None
    if not 0 < delivered < paid:
        return None
    value: object = str(delivered) if inp.type is InputType.ENUM else delivered
    if inp.type is InputType.ENUM and value not in (inp.values or ()):
        return None
    try:
        paid_credits = credits_for(spec, params)
        fewer_credits = credits_for(spec, {**params, inp.name: value})
    except RegistryError:
        return None
    fewer = pricing.stars(fewer_credits)
    if pricing.stars(paid_credits) != price and paid_credits > 0:
        # Sold at another markup (changed while it ran): the smaller count at the job's
        # own rate, not today's, so a markup change neither inflates nor eats the refund.
        rate = Decimal(price) * fewer_credits / paid_credits
        fewer = int(rate.to_integral_value(ROUND_CEILING))
    back = price - fewer
    return (paid, back) if back > 0 else None
