"""The bot's view of the registry: short model refs for buttons, and Star price ranges."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar

from trt.catalog.examples import price_points, sample_params
from trt.catalog.kinds import Category
from trt.catalog.pricing import Pricing, credits_for
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec, PerUnitPrice
from trt.errors import RegistryError

PAGE_SIZE = 8
T = TypeVar("T")


def ref(model_id: str) -> str:
    """A 10-character id for callback data (64 bytes at most); stable across restarts."""
    return hashlib.blake2b(model_id.encode(), digest_size=5).hexdigest()


class Catalog:
    def __init__(self, registry: Registry, pricing: Pricing) -> None:
        self.registry = registry
        self.pricing = pricing
        self._ranges: dict[str, tuple[int, int]] = {}
        self._remembered: dict[Hashable, Any] = {}

    @cached_property
    def _by_ref(self) -> dict[str, ModelSpec]:
        return {ref(s.id): s for s in self.registry.visible()}

    def by_ref(self, model_ref: str) -> ModelSpec | None:
        """A visible model by its ref; None for a stale or forged one."""
        return self._by_ref.get(model_ref)

    def categories(self) -> Mapping[Category, Sequence[ModelSpec]]:
        """Only categories with visible models, each sorted by starting price."""
        return self._categories

    @cached_property
    def _categories(self) -> Mapping[Category, Sequence[ModelSpec]]:
        return MappingProxyType({
            c: tuple(sorted(specs, key=lambda s: (self.price_range(s)[0], s.id)))
            for c, specs in self.registry.by_category().items()
        })  # fmt: skip

    def remember(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, made once per key: for what depends on the registry alone (keys must
        come from a bounded set: languages × categories × pages, say)."""
        if key not in self._remembered:
            self._remembered[key] = build()
        value: T = self._remembered[key]
        return value

    def price_range(self, spec: ModelSpec) -> tuple[int, int]:
        """The lowest and highest Star price a user can pick: over the priced inputs'
        values, and for a per-second price at the shortest and longest duration too (the
        registry's examples take the default duration only)."""
        if spec.id not in self._ranges:
            stars = [self.pricing.stars(p.credits) for p in price_points(spec)]
            stars += self._quantity_extremes(spec)
            self._ranges[spec.id] = (min(stars, default=0), max(stars, default=0))
        return self._ranges[spec.id]

    def default_price(self, spec: ModelSpec) -> int | None:
        """The price with every setting at its default; None when it depends on what the
        user types (a per-character price) or cannot be computed."""
        rule = spec.pricing
        if isinstance(rule, PerUnitPrice) and rule.unit == "character":
            return None
        return self.price_with(spec, {})

    def _quantity_extremes(self, spec: ModelSpec) -> list[int]:
        rule = spec.pricing
        if not isinstance(rule, PerUnitPrice) or rule.unit != "second":
            return []
        inp = spec.input(rule.quantity)
        ends = [v for v in (inp.min, inp.max) if v is not None] if inp is not None else []
        media = {i.name for i in spec.media_inputs}
        prices = []
        for point in price_points(spec):
            chosen = {k: v for k, v in point.conditions.items() if k not in media}
            prices += [self.price_with(spec, {**chosen, rule.quantity: end}) for end in ends]
        return [p for p in prices if p is not None]

    def price_with(self, spec: ModelSpec, raw: Mapping[str, Any]) -> int | None:
        """The price once `raw` is given (missing inputs as samples); None if not priceable."""
        try:
            return self.pricing.stars(credits_for(spec, sample_params(spec, raw)))
        except RegistryError:
            return None
