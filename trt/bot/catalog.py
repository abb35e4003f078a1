"""The bot's view of the registry: short model refs for buttons, and Star price ranges.

What is sold follows the operators' controls: a disabled model leaves the catalogue and a
model's own markup prices it; whatever was built from older controls is rebuilt."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from trt.catalog import ranges
from trt.catalog.kinds import Category
from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.core.controls import Controls

PAGE_SIZE = 8
T = TypeVar("T")


def ref(model_id: str) -> str:
    """A 10-character id for callback data (64 bytes at most); stable across restarts."""
    return hashlib.blake2b(model_id.encode(), digest_size=5).hexdigest()


class Catalog:
    def __init__(
        self, registry: Registry, pricing: Pricing, controls: Controls | None = None
    ) -> None:
        self.registry = registry
        self.pricing = pricing
        self.controls = controls
        self._version = -1
        self._ranges: dict[str, tuple[int, int]] = {}
        self._remembered: dict[Hashable, Any] = {}
        self._refs: dict[str, ModelSpec] = {}
        self._groups: Mapping[Category, Sequence[ModelSpec]] = {}

    def _current(self) -> None:
        """Forget what was built before the controls last changed."""
        version = self.controls.version if self.controls is not None else 0
        if version == self._version:
            return
        self._version = version
        self._ranges.clear()
        self._remembered.clear()
        self._refs = {ref(s.id): s for s in self.registry.visible() if self.sold(s)}
        self._groups = MappingProxyType({
            c: tuple(sorted(sold, key=lambda s: (self.price_range(s)[0], s.id)))
            for c, specs in self.registry.by_category().items()
            if (sold := [s for s in specs if self.sold(s)])
        })  # fmt: skip

    def sold(self, spec: ModelSpec) -> bool:
        """False for a model an operator disabled."""
        return self.controls is None or self.controls.disabled(spec.id) is None

    def pricing_of(self, spec: ModelSpec) -> Pricing:
        """The money settings the model sells at (its own markup, or the global one)."""
        if self.controls is None:
            return self.pricing
        return self.controls.pricing(self.pricing, spec.id)

    def by_ref(self, model_ref: str) -> ModelSpec | None:
        """A visible, sold model by its ref; None for a stale, forged or disabled one."""
        self._current()
        return self._refs.get(model_ref)

    def any_by_ref(self, model_ref: str) -> ModelSpec | None:
        """Any registry model by its ref, disabled or hidden ones too (for admins)."""
        return self._all_refs.get(model_ref)

    @functools.cached_property
    def _all_refs(self) -> dict[str, ModelSpec]:
        return {ref(s.id): s for s in self.registry}

    def categories(self) -> Mapping[Category, Sequence[ModelSpec]]:
        """Only categories with models on sale, each sorted by starting price."""
        self._current()
        return self._groups

    def remember(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, made once per key while the controls stay as they are: for what
        depends on the registry and the controls alone (keys must come from a bounded set:
        languages × categories × pages, say)."""
        self._current()
        if key not in self._remembered:
            self._remembered[key] = build()
        value: T = self._remembered[key]
        return value

    def price_range(self, spec: ModelSpec) -> tuple[int, int]:
        """The lowest and highest Star price a user can pick (see `ranges.price_range`)."""
        self._current()
        if spec.id not in self._ranges:
            self._ranges[spec.id] = ranges.price_range(spec, self.pricing_of(spec))
        return self._ranges[spec.id]

    def default_price(self, spec: ModelSpec) -> int | None:
        """The price with every setting at its default; None when it depends on what the
        user types (a per-character price) or cannot be computed."""
        return ranges.default_price(spec, self.pricing_of(spec))

    def price_with(self, spec: ModelSpec, raw: Mapping[str, Any]) -> int | None:
        """The price once `raw` is given (missing inputs as samples); None if not priceable."""
        return ranges.price_with(spec, self.pricing_of(spec), raw)
