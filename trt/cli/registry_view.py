"""Rendering for `trt registry`: imported only when a command runs (pydantic is heavy)."""

from __future__ import annotations

from typing import Any

from trt.catalog.examples import PricePoint, price_points
from trt.catalog.params import describe_allowed, format_value
from trt.catalog.pricing import Pricing
from trt.catalog.spec import FixedPrice, InputSpec, ModelSpec, PerUnitPrice
from trt.settings import load_settings


def pricing() -> Pricing:
    return Pricing.from_settings(load_settings())


def summary(spec: ModelSpec, pricing: Pricing) -> dict[str, Any]:
    points = price_points(spec) if spec.pricing is not None else []
    low = min((p.credits for p in points), default=None)
    return {
        "id": spec.id,
        "title": {"en": spec.title.en, "ru": spec.title.ru},
        "family": spec.family.value,
        "api_model": spec.api_model,
        "category": spec.category.value,
        "output": spec.output.value,
        "visible": spec.visible,
        "hidden_reason": spec.hidden_reason,
        "min_credits": str(low) if low is not None else None,
        "min_stars": pricing.stars(low) if low is not None else None,
    }


def about(spec: ModelSpec) -> list[tuple[str, object]]:
    shown = "yes" if spec.visible else f"no — {spec.hidden_reason}"
    fixed = ", ".join(f"{k}={format_value(v)}" for k, v in spec.fixed.items())
    return [
        ("id", spec.id),
        ("title", f"{spec.title.en} / {spec.title.ru}"),
        ("description", spec.description.en),
        ("описание", spec.description.ru),
        ("family", f"{spec.family.value} (model: {spec.api_model})"),
        ("category", f"{spec.category.value} → {spec.output.value}"),
        ("visible", shown),
        ("deadline", f"{spec.deadline_seconds} s"),
        ("pricing", describe_pricing(spec)),
        ("always sent", fixed or None),
        ("doc", spec.doc_url),
        ("notes", spec.notes),
    ]


def describe_pricing(spec: ModelSpec) -> str:
    rule = spec.pricing
    if rule is None:
        return "unknown (the model cannot be quoted)"
    if isinstance(rule, FixedPrice):
        text = f"{rule.credits} credits"
    elif isinstance(rule, PerUnitPrice):
        rate = f"{rule.credits} credits" if rule.credits is not None else "credits"
        by = f" (rate by {', '.join(rule.keys)})" if rule.keys else ""
        per = f"{rule.per} " if rule.per != 1 else ""
        text = f"{rate} per {per}{rule.unit} of {rule.quantity}{by}"
    else:
        text = f"table by {', '.join(rule.keys)}"
    times = f" × {rule.multiply_by}" if rule.multiply_by else ""
    floor = f", minimum {rule.minimum}" if rule.minimum else ""
    return text + times + floor


def input_row(inp: InputSpec) -> list[object]:
    allowed = describe_allowed(inp).removeprefix("allowed: ")
    if inp.is_media and inp.max_bytes:
        types = ", ".join(t.split("/")[1] for t in inp.media_types or ())
        allowed += f"; {types}; ≤ {inp.max_bytes // (1024 * 1024)} MB each"
    default = format_value(inp.default) if inp.default is not None else None
    return [inp.name, inp.type.value, "yes" if inp.required else "", default, allowed]


def conditions(point: PricePoint) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in point.conditions.items()) or "any"


def point_json(point: PricePoint, pricing: Pricing) -> dict[str, Any]:
    return {
        "parameters": point.conditions,
        "credits": str(point.credits),
        "stars": pricing.stars(point.credits),
    }
