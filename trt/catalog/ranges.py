"""The Star prices a model sells at: its range over what a user can pick, and the price at
its defaults. The bot's catalogue and `trt models list` both show these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trt.catalog.examples import price_points, sample_params
from trt.catalog.pricing import Pricing, credits_for
from trt.catalog.spec import ModelSpec, PerUnitPrice
from trt.errors import RegistryError


def price_range(spec: ModelSpec, pricing: Pricing) -> tuple[int, int]:
    """The lowest and highest Star price a user can pick: over the priced inputs' values,
    and for a per-second price at the shortest and longest duration too (the registry's
    examples take the default duration only)."""
    stars = [pricing.stars(p.credits) for p in price_points(spec)]
    stars += _quantity_extremes(spec, pricing)
    return min(stars, default=0), max(stars, default=0)


def default_price(spec: ModelSpec, pricing: Pricing) -> int | None:
    """The price with every setting at its default; None when it depends on what the user
    types (a per-character price) or cannot be computed."""
    rule = spec.pricing
    if isinstance(rule, PerUnitPrice) and rule.unit == "character":
        return None
    return price_with(spec, pricing, {})


def price_with(spec: ModelSpec, pricing: Pricing, raw: Mapping[str, Any]) -> int | None:
    """The price once `raw` is given (missing inputs as samples); None if not priceable."""
    try:
        return pricing.stars(credits_for(spec, sample_params(spec, raw)))
    except RegistryError:
        return None


def _quantity_extremes(spec: ModelSpec, pricing: Pricing) -> list[int]:
    rule = spec.pricing
    if not isinstance(rule, PerUnitPrice) or rule.unit != "second":
        return []
    inp = spec.input(rule.quantity)
    ends = [v for v in (inp.min, inp.max) if v is not None] if inp is not None else []
    media = {i.name for i in spec.media_inputs}
    prices = []
    for point in price_points(spec):
        chosen = {k: v for k, v in point.conditions.items() if k not in media}
        prices += [price_with(spec, pricing, {**chosen, rule.quantity: end}) for end in ends]
    return [p for p in prices if p is not None]
