"""`trt models list`: each model as the registry defines it and the operators changed it,
with its prices now and what it sold over a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trt.catalog import ranges
from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.core.controls import Controls
from trt.core.repos import Store
from trt.records import ModelUsage


@dataclass(frozen=True, slots=True)
class ModelLine:
    id: str
    title: str
    state: str  # "enabled" | "disabled" | "hidden" (no price in the registry: never sold)
    reason: str | None  # why disabled (or hidden)
    markup: str  # what the model sells at: its own markup, or the global one
    own_markup: bool  # the model has its own markup (`trt models markup`)
    default_stars: int | None  # every setting at its default; None: priced per character
    from_stars: int | None  # the lowest price a user can pick
    jobs: int  # charged generations in the window
    stars_sold: int  # Stars charged minus refunded in the window
    kie_credits: float  # credits quoted for those generations
    measured: int  # of `jobs`, those KIE reported its real credits for (`consumeCredits`)
    measured_quote: float  # the credits quoted for the measured ones
    real_credits: float | None  # what KIE consumed for the measured ones; None: none measured


async def model_board(
    store: Store, registry: Registry, pricing: Pricing, *, since: datetime, hidden: bool = False
) -> list[ModelLine]:
    """Every visible model (and hidden ones with `hidden`), sorted by id."""
    controls = Controls(store.controls, registry)
    await controls.refresh()
    usage = {u.model_id: u for u in (await store.money_figures(since)).models}
    return [
        _line(spec, controls, pricing, usage.get(spec.id))
        for spec in registry
        if hidden or spec.visible
    ]


def _line(
    spec: ModelSpec, controls: Controls, pricing: Pricing, usage: ModelUsage | None
) -> ModelLine:
    off = controls.disabled(spec.id)
    sold_at = controls.pricing(pricing, spec.id)
    priced = spec.visible and spec.pricing is not None
    state = "disabled" if off else ("enabled" if spec.visible else "hidden")
    reason = off.reason if off else (None if spec.visible else spec.hidden_reason)
    return ModelLine(
        id=spec.id, title=spec.title.en, state=state, reason=reason,
        markup=str(sold_at.markup), own_markup=controls.markup(spec.id) is not None,
        default_stars=ranges.default_price(spec, sold_at) if priced else None,
        from_stars=ranges.price_range(spec, sold_at)[0] if priced else None,
        jobs=usage.jobs if usage else 0, stars_sold=usage.stars if usage else 0,
        kie_credits=usage.kie_credits if usage else 0.0,
        measured=usage.measured if usage else 0,
        measured_quote=usage.measured_quote if usage else 0.0,
        real_credits=usage.real_credits if usage and usage.measured else None,
    )  # fmt: skip
