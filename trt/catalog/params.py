"""Raw user input (chat text, `--set k=v`, or already-typed values) to typed parameters."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from trt.catalog.kinds import InputType
from trt.catalog.spec import Constraint, InputSpec, ModelSpec, Scalar
from trt.errors import InvalidParameters

_TRUE = frozenset({"true", "yes", "y", "on", "1", "да"})
_FALSE = frozenset({"false", "no", "n", "off", "0", "нет"})


class FieldError(ValueError):
    """One input's value is unusable; the message says what is allowed."""


def parse_params(spec: ModelSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed parameters with defaults and fixed values. Raises: InvalidParameters (every field)."""
    known = [i.name for i in spec.inputs]
    errors = [_unknown(spec, name, known) for name in raw if name not in known]
    values: dict[str, Any] = {}
    for inp in spec.inputs:
        given = raw.get(inp.name)
        if _is_blank(given):
            if inp.default is not None:
                values[inp.name] = _copy(inp.default)
            elif inp.required:
                errors.append(f"{inp.name}: required; {describe_allowed(inp)}")
            continue
        try:
            values[inp.name] = coerce_value(inp, given)
        except FieldError as exc:
            errors.append(f"{inp.name}: {exc}")
    if not errors:
        errors = check_constraints(spec.constraints, values)
    if errors:
        raise InvalidParameters(errors)
    return {**values, **spec.fixed}


def _unknown(spec: ModelSpec, name: str, known: list[str]) -> str:
    if name in spec.fixed:
        return f"{name}: fixed to {format_value(spec.fixed[name])} for this model"
    return f"{name}: unknown parameter; known: {', '.join(known)}"


def coerce_value(inp: InputSpec, value: object) -> Any:
    """One value converted to the input's type. Raises: FieldError naming what is allowed."""
    return _COERCE[inp.type](inp, value)


def describe_allowed(inp: InputSpec) -> str:
    """What an input accepts, in words, for errors and help."""
    if inp.type is InputType.ENUM:
        return "allowed: " + ", ".join(format_value(v) for v in inp.values or ())
    if inp.type in (InputType.INTEGER, InputType.NUMBER):
        kind = "a whole number" if inp.type is InputType.INTEGER else "a number"
        return f"allowed: {kind}{_range_text(inp)}"
    if inp.type is InputType.BOOLEAN:
        return "allowed: true or false"
    if inp.type is InputType.TEXT:
        low = f"{inp.min_length}–" if inp.min_length else "up to "
        if not inp.max_length:
            return "allowed: any text"
        return f"allowed: text, {low}{inp.max_length} characters"
    count = f"up to {inp.max_items} " if inp.max_items else ""
    noun = "URL" if not inp.is_list else "URLs"
    return f"allowed: {count}{inp.type.value} {noun}"


def format_value(value: object) -> str:
    """A value as a user would type it (true/false in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class RuleProblem:
    """One way a combination of values breaks a rule, kept as data so that each adapter can
    say it in its own words (the bot in the user's language); `str()` is the English line."""

    kind: Literal["not_allowed", "required", "one_of", "too_long"]
    names: tuple[str, ...]
    rule: Constraint
    value: object = None
    limit: int | None = None

    def __str__(self) -> str:
        cond = _describe_when(self.rule)
        name = self.names[0]
        if self.kind == "not_allowed":
            return _not_allowed(name, self.value, self.rule.allow[name], cond)
        if self.kind == "required":
            return f"{name}: required{cond}"
        if self.kind == "one_of":
            return f"{' or '.join(self.names)}: give one of them{cond}"
        return f"{name}: at most {self.limit} characters{cond}"


def applies(rule: Constraint, values: Mapping[str, Any]) -> bool:
    """Whether every `when` input of `rule` has one of its listed values."""
    return all(_matches(values.get(k), v) for k, v in rule.when.items())


def rule_problems(
    constraints: tuple[Constraint, ...], values: Mapping[str, Any]
) -> list[RuleProblem]:
    """Problems with combinations of otherwise valid values, each naming the field."""
    problems: list[RuleProblem] = []
    for rule in (r for r in constraints if applies(r, values)):
        for name, allowed in rule.allow.items():
            if name in values and not any(_same(values[name], a) for a in allowed):
                problems.append(RuleProblem("not_allowed", (name,), rule, values[name]))
        problems += [
            RuleProblem("required", (n,), rule) for n in rule.require if _is_blank(values.get(n))
        ]
        if rule.require_one_of and all(_is_blank(values.get(n)) for n in rule.require_one_of):
            problems.append(RuleProblem("one_of", rule.require_one_of, rule))
        for name, limit in rule.max_length.items():
            if len(str(values.get(name) or "")) > limit:
                problems.append(RuleProblem("too_long", (name,), rule, limit=limit))
    return problems


def check_constraints(constraints: tuple[Constraint, ...], values: Mapping[str, Any]) -> list[str]:
    """Problems with combinations of otherwise valid values, each naming the field."""
    return [str(p) for p in rule_problems(constraints, values)]


def required_by_rules(spec: ModelSpec, values: Mapping[str, Any]) -> list[str]:
    """Inputs the rules that apply to `values` (defaults filled in) require: each `require`,
    and the first of a `require_one_of` none of which is given. A form asks these as it
    asks the model's required inputs (Suno's custom mode asks style and title)."""
    current = {i.name: i.default for i in spec.inputs if i.default is not None} | dict(values)
    names: list[str] = []
    for rule in (r for r in spec.constraints if applies(r, current)):
        names += rule.require
        if rule.require_one_of and all(_is_blank(current.get(n)) for n in rule.require_one_of):
            names.append(rule.require_one_of[0])
    return list(dict.fromkeys(names))


def length_limit(spec: ModelSpec, inp: InputSpec, values: Mapping[str, Any]) -> int | None:
    """The most characters `inp` takes now: its own limit or a rule's lower one."""
    current = {i.name: i.default for i in spec.inputs if i.default is not None} | dict(values)
    limits = [inp.max_length] if inp.max_length else []
    limits += [
        r.max_length[inp.name]
        for r in spec.constraints
        if inp.name in r.max_length and applies(r, current)
    ]
    return min(limits, default=None)


def _not_allowed(name: str, value: object, allowed: tuple[Scalar, ...], cond: str) -> str:
    if not allowed:
        return f"{name}: must not be given{cond}"
    shown = ", ".join(format_value(a) for a in allowed)
    return f"{name}: {format_value(value)} is not allowed{cond}; allowed: {shown}"


def _describe_when(rule: Constraint) -> str:
    if not rule.when:
        return ""
    parts = [f"{k}={format_value(v)}" for k, v in rule.when.items()]
    reason = f" ({rule.reason})" if rule.reason else ""
    return f" when {' and '.join(parts)}{reason}"


def _matches(value: object, expected: Scalar | tuple[Scalar, ...]) -> bool:
    options = expected if isinstance(expected, tuple) else (expected,)
    return any(_same(value, o) for o in options)


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _copy(value: Scalar | tuple[str, ...]) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


def _range_text(inp: InputSpec) -> str:
    if inp.min is not None and inp.max is not None:
        return f" from {inp.min} to {inp.max}"
    if inp.min is not None:
        return f" ≥ {inp.min}"
    return f" ≤ {inp.max}" if inp.max is not None else ""


def _text(inp: InputSpec, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(f"expected text; {describe_allowed(inp)}")
    text = str(value)
    too_long = inp.max_length is not None and len(text) > inp.max_length
    if too_long or (inp.min_length is not None and len(text) < inp.min_length):
        raise FieldError(f"{len(text)} characters; {describe_allowed(inp)}")
    return text


def _media(inp: InputSpec, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"expected one {inp.type.value} URL or path")
    return value.strip()


def _media_list(inp: InputSpec, value: object) -> list[str]:
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise FieldError(f"expected a list of URLs; {describe_allowed(inp)}")
    cleaned = [i.strip() for i in items if i.strip()]
    if inp.max_items is not None and len(cleaned) > inp.max_items:
        raise FieldError(f"{len(cleaned)} given; {describe_allowed(inp)}")
    return cleaned


def _enum(inp: InputSpec, value: object) -> Scalar:
    options = inp.values or ()
    for option in options:
        if _same(value, option) or format_value(option) == format_value(value):
            return option
    folded = [o for o in options if format_value(o).lower() == format_value(value).lower()]
    if len(folded) == 1:
        return folded[0]
    raise FieldError(f"{format_value(value)!r} is not allowed; {describe_allowed(inp)}")


def _boolean(inp: InputSpec, value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str | int) else ""
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise FieldError(f"{format_value(value)!r} is not a yes/no value; {describe_allowed(inp)}")


def _integer(inp: InputSpec, value: object) -> int:
    number = _number(inp, value)
    if number != int(number):
        raise FieldError(f"{format_value(value)} is not a whole number; {describe_allowed(inp)}")
    return int(number)


def _number(inp: InputSpec, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(f"expected a number; {describe_allowed(inp)}")
    try:
        number = float(value)
    except ValueError:
        raise FieldError(f"{value!r} is not a number; {describe_allowed(inp)}") from None
    low = inp.min if inp.min is not None else -math.inf
    high = inp.max if inp.max is not None else math.inf
    if not math.isfinite(number) or not low <= number <= high:
        raise FieldError(f"{format_value(value)} is out of range; {describe_allowed(inp)}")
    return int(number) if number.is_integer() else number


_COERCE: dict[InputType, Callable[[InputSpec, object], Any]] = {
    InputType.TEXT: _text,
    InputType.IMAGE: _media,
    InputType.VIDEO: _media,
    InputType.AUDIO: _media,
    InputType.IMAGES: _media_list,
    InputType.VIDEOS: _media_list,
    InputType.AUDIOS: _media_list,
    InputType.ENUM: _enum,
    InputType.INTEGER: _integer,
    InputType.NUMBER: _number,
    InputType.BOOLEAN: _boolean,
}
