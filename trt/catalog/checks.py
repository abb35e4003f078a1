"""Checks that need the whole spec: each problem is `field: message`, all of them reported."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from trt.catalog.kinds import MEDIA_TYPES, InputType
from trt.catalog.params import FieldError, coerce_value
from trt.catalog.spec import InputSpec, ModelSpec, PerUnitPrice, PriceRow, TablePrice
from trt.domain import Family

_KEY_TYPES = frozenset({InputType.ENUM, InputType.BOOLEAN, InputType.INTEGER})
_COUNT_TYPES = frozenset({InputType.ENUM, InputType.INTEGER, InputType.NUMBER})
_UNIT_TYPES = {
    "second": frozenset({InputType.ENUM, InputType.INTEGER, InputType.NUMBER}),
    "character": frozenset({InputType.TEXT}),
    "megapixel": frozenset({InputType.ENUM}),
}


def check_spec(spec: ModelSpec) -> list[str]:
    """Every semantic problem of one spec, as `field: message`."""
    return [
        *_check_visibility(spec),
        *_check_names(spec),
        *(p for i, inp in enumerate(spec.inputs) for p in _check_input(f"inputs[{i}]", inp)),
        *_check_constraints(spec),
        *_check_pricing(spec),
    ]


def _check_visibility(spec: ModelSpec) -> Iterator[str]:
    if not spec.visible and not spec.hidden_reason:
        yield "hidden_reason: a hidden model must say why it is hidden"
    if spec.visible and spec.hidden_reason:
        yield "hidden_reason: only hidden models have a hidden_reason"
    if spec.visible and spec.pricing is None:
        yield "pricing: a visible model needs a pricing rule (hide it and say why otherwise)"
    if spec.family is Family.MARKET and spec.api_model != spec.id:
        yield f"api_model: a market model is called by its id ({spec.id})"


def _check_names(spec: ModelSpec) -> Iterator[str]:
    for name in spec.fixed:
        if spec.input(name) is not None:
            yield f"fixed.{name}: is also an input; a value is either fixed or chosen"
    seen: set[str] = set()
    for i, inp in enumerate(spec.inputs):
        if inp.name in seen:
            yield f"inputs[{i}].name: duplicate input {inp.name!r}"
        seen.add(inp.name)


def _check_input(at: str, inp: InputSpec) -> Iterator[str]:
    is_enum = inp.type is InputType.ENUM
    if is_enum and not inp.values:
        yield f"{at}.values: an enum input needs values"
    if not is_enum and (inp.values is not None or inp.labels is not None):
        yield f"{at}.values: only enum inputs have values and labels"
    if inp.values and len({(type(v), v) for v in inp.values}) != len(inp.values):
        yield f"{at}.values: duplicate values"
    if inp.values and len({type(v) for v in inp.values}) > 1:
        yield f"{at}.values: all values must have the same type"
    for key in sorted(set(inp.labels or {}) - {str(v) for v in inp.values or ()}):
        yield f"{at}.labels: {key!r} is not one of the values"
    yield from _check_limits(at, inp)
    if inp.required and inp.default is not None:
        yield f"{at}.default: a required input has no default (the user must give it)"
    if inp.default is not None:
        yield from _check_value(f"{at}.default", inp, inp.default)


def _check_limits(at: str, inp: InputSpec) -> Iterator[str]:
    numeric = inp.type in (InputType.INTEGER, InputType.NUMBER)
    if (inp.min is not None or inp.max is not None) and not numeric:
        yield f"{at}.min: only integer and number inputs have min/max"
    if inp.min is not None and inp.max is not None and inp.min > inp.max:
        yield f"{at}.max: max {inp.max} is below min {inp.min}"
    if (inp.max_length or inp.min_length) and inp.type is not InputType.TEXT:
        yield f"{at}.max_length: only text inputs have a length limit"
    if inp.max_items and not inp.is_list:
        yield f"{at}.max_items: only images/videos/audios inputs have max_items"
    if inp.is_media and not (inp.media_types and inp.max_bytes):
        yield f"{at}.media_types: a media input needs media_types and max_bytes"
    if not inp.is_media and (inp.media_types or inp.max_bytes):
        yield f"{at}.media_types: only media inputs have media_types and max_bytes"


def _check_value(at: str, inp: InputSpec, value: object) -> Iterator[str]:
    try:
        coerce_value(inp, value)
    except FieldError as exc:
        yield f"{at}: {exc}"


def _check_constraints(spec: ModelSpec) -> Iterator[str]:
    for i, rule in enumerate(spec.constraints):
        at = f"constraints[{i}]"
        for name, expected in rule.when.items():
            options = expected if isinstance(expected, tuple) else (expected,)
            yield from _check_named_values(spec, f"{at}.when.{name}", name, options)
        for name, allowed in rule.allow.items():
            yield from _check_named_values(spec, f"{at}.allow.{name}", name, allowed)
        names = [*rule.require, *rule.require_one_of, *rule.max_length, *(rule.labels or {})]
        yield from (f"{at}: unknown input {n!r}" for n in names if spec.input(n) is None)


def _check_named_values(
    spec: ModelSpec, at: str, name: str, values: Iterable[object]
) -> Iterator[str]:
    inp = spec.input(name)
    if inp is None:
        yield f"{at}: unknown input {name!r}"
        return
    for value in values:
        yield from _check_value(at, inp, value)


def _check_pricing(spec: ModelSpec) -> Iterator[str]:
    rule = spec.pricing
    if rule is None:
        return
    if rule.multiply_by is not None:
        yield from _check_priced_input(spec, "pricing.multiply_by", rule.multiply_by, _COUNT_TYPES)
    if isinstance(rule, TablePrice):
        yield from _check_table(spec, "pricing", rule.keys, rule.rows)
    if isinstance(rule, PerUnitPrice):
        yield from _check_per_unit(spec, rule)


def _check_priced_input(
    spec: ModelSpec, at: str, name: str, types: frozenset[InputType]
) -> Iterator[str]:
    inp = spec.input(name)
    if inp is None:
        yield f"{at}: unknown input {name!r}"
    elif inp.type not in types:
        yield f"{at}: {name!r} is {inp.type}, expected one of {', '.join(sorted(types))}"
    elif not inp.is_media and not inp.required and inp.default is None:
        yield f"{at}: {name!r} needs a default or must be required, or the price is unknown"


def _check_table(
    spec: ModelSpec, at: str, keys: tuple[str, ...], rows: tuple[PriceRow, ...]
) -> Iterator[str]:
    for key in keys:
        yield from _check_priced_input(spec, f"{at}.keys", key, _KEY_TYPES | MEDIA_TYPES)
    seen: set[tuple[tuple[str, str], ...]] = set()
    for j, row in enumerate(rows):
        if set(row.when) != set(keys):
            yield f"{at}.rows[{j}].when: must name exactly the keys {', '.join(keys)}"
            continue
        ident = tuple(sorted((k, repr(v)) for k, v in row.when.items()))
        if ident in seen:
            yield f"{at}.rows[{j}]: duplicate row"
        seen.add(ident)
        for key, value in row.when.items():
            inp = spec.input(key)
            if inp is not None and not inp.is_media:
                yield from _check_value(f"{at}.rows[{j}].when.{key}", inp, value)
            elif inp is not None and not isinstance(value, bool):
                yield f"{at}.rows[{j}].when.{key}: a media key is true (given) or false"


def _check_per_unit(spec: ModelSpec, rule: PerUnitPrice) -> Iterator[str]:
    yield from _check_priced_input(spec, "pricing.quantity", rule.quantity, _UNIT_TYPES[rule.unit])
    if (rule.credits is None) == (not rule.rows):
        yield "pricing.credits: give either credits or keys+rows (a rate table), not both"
    if rule.rows:
        yield from _check_table(spec, "pricing", rule.keys, rule.rows)
    inp = spec.input(rule.quantity)
    if rule.unit == "megapixel" and inp is not None:
        missing = [str(v) for v in inp.values or () if str(v) not in (rule.megapixels or {})]
        if missing:
            yield f"pricing.megapixels: no size for {', '.join(missing)}"
