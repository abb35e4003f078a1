"""Example parameter sets and example prices, for `registry show` and the property tests."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trt.catalog.kinds import InputType
from trt.catalog.params import parse_params
from trt.catalog.pricing import credits_for
from trt.catalog.spec import InputSpec, ModelSpec, PerUnitPrice, Scalar
from trt.errors import InvalidParameters

_SAMPLE_URL = {
    InputType.IMAGE: "https://example.com/input.png",
    InputType.VIDEO: "https://example.com/input.mp4",
    InputType.AUDIO: "https://example.com/input.mp3",
}
_LIST_ITEM = {
    InputType.IMAGES: InputType.IMAGE,
    InputType.VIDEOS: InputType.VIDEO,
    InputType.AUDIOS: InputType.AUDIO,
}
MAX_POINTS = 64
_SAMPLE_TEXT = "a red fox in fresh snow, golden hour"


@dataclass(frozen=True)
class PricePoint:
    """The credits for one combination of the inputs the price depends on."""

    conditions: dict[str, Any]
    credits: Decimal


def sample_value(inp: InputSpec) -> Any:
    """A plausible value a user could give for `inp` (its default if it has one)."""
    if inp.default is not None:
        return list(inp.default) if isinstance(inp.default, tuple) else inp.default
    if inp.is_media:
        url = _SAMPLE_URL[_LIST_ITEM.get(inp.type, inp.type)]
        return [url] if inp.is_list else url
    samples: dict[InputType, Any] = {
        InputType.TEXT: _SAMPLE_TEXT[: inp.max_length or None].ljust(inp.min_length or 0, "."),
        InputType.ENUM: (inp.values or ("",))[0],
        InputType.INTEGER: inp.min if inp.min is not None else 1,
        InputType.NUMBER: inp.min if inp.min is not None else 1,
    }
    return samples.get(inp.type, False)


def sample_params(spec: ModelSpec, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Required (and constraint-required) inputs as samples, defaults, then `overrides`."""
    names = [i.name for i in spec.inputs if i.required]
    for rule in spec.constraints:
        names += [*rule.require, *rule.require_one_of[:1]]
    found = (spec.input(n) for n in dict.fromkeys(names))
    raw = {i.name: sample_value(i) for i in found if i is not None}
    raw.update(overrides or {})
    return parse_params(spec, raw)


def price_inputs(spec: ModelSpec) -> list[InputSpec]:
    """The inputs the price depends on (table keys, multiplier, per-unit quantity)."""
    rule = spec.pricing
    if rule is None:
        return []
    names = list(getattr(rule, "keys", ()))
    if isinstance(rule, PerUnitPrice):
        names.append(rule.quantity)
    if rule.multiply_by:
        names.append(rule.multiply_by)
    found = (spec.input(n) for n in dict.fromkeys(names))
    return [i for i in found if i is not None]


def domain(inp: InputSpec) -> list[Any]:
    """The values worth pricing for `inp`: every enum value, both booleans, given/absent."""
    if inp.type is InputType.ENUM:
        return list(inp.values or ())
    if inp.type is InputType.BOOLEAN:
        return [False, True]
    if inp.is_media:
        return [sample_value(inp)] if inp.required else [None, sample_value(inp)]
    return [sample_value(inp)]


def price_points(spec: ModelSpec, limit: int = MAX_POINTS) -> list[PricePoint]:
    """Credits for each allowed combination of the priced inputs (at most `limit`)."""
    inputs = price_inputs(spec)
    rule = spec.pricing
    # Per-second and per-character prices are shown at the default quantity only.
    scaled = rule.quantity if isinstance(rule, PerUnitPrice) and rule.unit != "megapixel" else ""
    domains = [[sample_value(i)] if i.name == scaled else domain(i) for i in inputs]
    points: list[PricePoint] = []
    for combo in itertools.product(*domains):
        overrides = {i.name: v for i, v in zip(inputs, combo, strict=True) if v is not None}
        try:
            params = sample_params(spec, overrides)
        except InvalidParameters:
            continue  # a combination the model's constraints forbid
        shown: dict[str, Scalar | bool] = {
            i.name: (bool(params.get(i.name)) if i.is_media else params[i.name]) for i in inputs
        }
        points.append(PricePoint(shown, credits_for(spec, params)))
        if len(points) >= limit:
            break
    return points
