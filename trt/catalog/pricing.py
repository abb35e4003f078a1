"""KIE credits for a parameter set, and the Star price shown (and charged) for them.

An unpriceable combination is an error, never a guess: no fallback to the cheapest row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any

from trt.catalog.params import format_value
from trt.catalog.spec import FixedPrice, ModelSpec, PerUnitPrice, PriceRow, PricingRule
from trt.errors import InvalidParameters, PriceUnknown

if TYPE_CHECKING:
    from trt.settings import Settings


def credits_for(spec: ModelSpec, params: Mapping[str, Any]) -> Decimal:
    """KIE credits for validated params. Raises: PriceUnknown, InvalidParameters."""
    rule = spec.pricing
    if rule is None:
        raise PriceUnknown(spec.id, spec.hidden_reason or "no pricing rule")
    credits = _base(spec, rule, params)
    if rule.multiply_by is not None:
        credits *= _decimal(rule.multiply_by, params)
    if rule.minimum is not None:
        credits = max(credits, rule.minimum)
    if credits <= 0:
        raise InvalidParameters([f"price: {credits} credits is not a price; check the inputs"])
    return _tidy(credits)


def stars_for(
    credits: Decimal, *, usd_per_credit: Decimal, usd_per_star: Decimal, markup: Decimal
) -> int:
    """Stars for `credits`: credits × USD/credit × markup ÷ USD/Star, rounded up, at least 1."""
    stars = (credits * usd_per_credit * markup / usd_per_star).to_integral_value(ROUND_CEILING)
    return max(1, int(stars))


@dataclass(frozen=True)
class Pricing:
    """The money settings that turn credits into Stars."""

    usd_per_credit: Decimal
    usd_per_star: Decimal
    markup: Decimal

    @classmethod
    def from_settings(cls, settings: Settings) -> Pricing:
        """Decimal copies of the Settings floats (via str, so 0.013 stays 0.013)."""
        return cls(
            usd_per_credit=Decimal(str(settings.usd_per_credit)),
            usd_per_star=Decimal(str(settings.usd_per_star)),
            markup=Decimal(str(settings.price_markup)),
        )

    def stars(self, credits: Decimal) -> int:
        """The Star price of `credits`."""
        return stars_for(
            credits,
            usd_per_credit=self.usd_per_credit,
            usd_per_star=self.usd_per_star,
            markup=self.markup,
        )


def _base(spec: ModelSpec, rule: PricingRule, params: Mapping[str, Any]) -> Decimal:
    if isinstance(rule, FixedPrice):
        return rule.credits
    if not isinstance(rule, PerUnitPrice):
        return _lookup(spec, rule.keys, rule.rows, params)
    rate = (
        rule.credits if rule.credits is not None else _lookup(spec, rule.keys, rule.rows, params)
    )
    return rate * _quantity(rule, params) / rule.per


def _quantity(rule: PerUnitPrice, params: Mapping[str, Any]) -> Decimal:
    if rule.unit == "character":
        return Decimal(len(str(params.get(rule.quantity) or "")))
    if rule.unit == "megapixel":
        size = format_value(params.get(rule.quantity))
        if rule.megapixels is None or size not in rule.megapixels:
            raise InvalidParameters([f"{rule.quantity}: no known size for {size!r}"])
        return rule.megapixels[size]
    return _decimal(rule.quantity, params)


def _lookup(
    spec: ModelSpec, keys: tuple[str, ...], rows: tuple[PriceRow, ...], params: Mapping[str, Any]
) -> Decimal:
    wanted = {key: _key_value(spec, key, params) for key in keys}
    for row in rows:
        if all(type(row.when[k]) is type(v) and row.when[k] == v for k, v in wanted.items()):
            return row.credits
    given = ", ".join(f"{k}={format_value(v)}" for k, v in wanted.items())
    priced = "; ".join(
        ", ".join(f"{k}={format_value(v)}" for k, v in row.when.items()) for row in rows
    )
    raise InvalidParameters([f"price: no price for {given}; priced: {priced}"])


def _key_value(spec: ModelSpec, key: str, params: Mapping[str, Any]) -> Any:
    inp = spec.input(key)
    if inp is not None and inp.is_media:
        return bool(params.get(key))
    return params.get(key)


def _tidy(value: Decimal) -> Decimal:
    """57.0 → 57 and 7.00 → 7, so equal prices print and compare alike."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _decimal(name: str, params: Mapping[str, Any]) -> Decimal:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidParameters([f"{name}: a number is needed to compute the price"])
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise InvalidParameters([f"{name}: {value!r} is not a number"]) from None
