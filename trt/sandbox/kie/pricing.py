"""What the emulator bills a task: the registry's quote for its request, so the credits a
callback reports (`consumeCredits`) match what trt quoted, times an overcharge factor for
chosen models, so the cost guard can be tripped end to end."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from trt.catalog.params import parse_params
from trt.catalog.pricing import credits_for
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.errors import TrtError

# (KIE model name, the request's parameters) -> credits, or None when it cannot say
Pricer = Callable[[str, Mapping[str, Any]], Decimal | None]


def registry_pricer(registry: Registry) -> Pricer:
    """Credits by the registry's pricing rule of the model KIE is asked for."""
    by_model: dict[str, list[ModelSpec]] = defaultdict(list)
    for spec in registry:
        by_model[spec.api_model].append(spec)

    def price(model: str, request: Mapping[str, Any]) -> Decimal | None:
        for spec in by_model.get(model, ()):
            names = {i.name for i in spec.inputs}
            given = {k: v for k, v in request.items() if k in names}
            try:
                return credits_for(spec, parse_params(spec, given))
            except TrtError:
                continue  # another spec of the same KIE model, or the flat task cost
        return None

    return price


def parse_overcharge(text: str) -> tuple[str, Decimal]:
    """`MODEL=FACTOR` (e.g. `google/nano-banana=1.5`). Raises: ValueError naming the form."""
    model, sep, factor = text.rpartition("=")
    try:
        value = Decimal(factor)
    except ArithmeticError:
        value = Decimal(-1)
    if not sep or not model or not value.is_finite() or value <= 0:
        raise ValueError(f"{text!r}: expected MODEL=FACTOR with a factor above 0, e.g. m=1.5")
    return model, value
