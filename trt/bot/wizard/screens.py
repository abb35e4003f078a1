"""The wizard's screens: one step, the settings, the confirmation (text and keyboard)."""

from __future__ import annotations

from typing import Any

from trt.bot import free, keyboards
from trt.bot.catalog import Catalog
from trt.bot.labels import current, label, step_label, summary, title, value_text
from trt.bot.media import limit_bytes
from trt.bot.screens import Screen
from trt.bot.texts import Texts
from trt.bot.wizard.form import Form, needed, optional_inputs
from trt.catalog.kinds import InputType
from trt.catalog.params import RuleProblem, format_value, length_limit, rule_problems
from trt.catalog.spec import InputSpec, ModelSpec
from trt.core.services import Services
from trt.errors import InvalidParameters
from trt.records import UserRecord


def presets(inp: InputSpec) -> list[int | float]:
    """Number choices offered as buttons: the minimum, the default and the maximum."""
    values = [v for v in (inp.min, inp.default, inp.max) if isinstance(v, int | float)]
    return sorted(set(values))


def step_screen(t: Texts, catalog: Catalog, spec: ModelSpec, form: Form, inp: InputSpec) -> Screen:
    header = t("ask.header", title=title(spec, t.lang), label=step_label(spec, form, inp, t.lang))
    body, rows = ask_body(t, catalog, spec, form, inp)
    optional = not needed(spec, form, inp)
    if optional and form.has(inp.name):
        body += "\n" + t("ask.current", value=current(inp, form, t))
    count = len(form.media.get(inp.name, []))
    nav = keyboards.step_nav(t, form.nonce, optional=optional, name=inp.name,
                             done=inp.is_list and count > 0)  # fmt: skip
    return f"{header}\n{body}", keyboards.step([*rows, *nav])


def ask_body(
    t: Texts, catalog: Catalog, spec: ModelSpec, form: Form, inp: InputSpec
) -> tuple[str, list[Any]]:
    if inp.type is InputType.ENUM:
        options = [value_text(inp, v, t) for v in inp.values or ()]
        prices = [
            catalog.price_with(spec, {**form.raw(spec), inp.name: v}) for v in inp.values or ()
        ]
        if len(set(prices)) > 1:
            options = [
                f"{o} · {p} ⭐" if p is not None else o
                for o, p in zip(options, prices, strict=True)
            ]
        return t("ask.enum"), keyboards.choices(form.nonce, inp.name, options, _marked(inp, form))
    if inp.type is InputType.BOOLEAN:
        options = [t("button.no"), t("button.yes")]
        return t("ask.boolean"), keyboards.choices(
            form.nonce, inp.name, options, _marked(inp, form)
        )
    if inp.type in (InputType.INTEGER, InputType.NUMBER):
        options = [format_value(v) for v in presets(inp)]
        rows = keyboards.choices(form.nonce, inp.name, options, None)
        if inp.min is not None and inp.max is not None:
            return t("ask.number", min=inp.min, max=inp.max), rows
        return t("ask.number_open"), rows
    if inp.type is InputType.TEXT:
        limit = length_limit(spec, inp, form.raw(spec))
        return (t("ask.text", max=limit) if limit else t("ask.text_any")), []
    return _ask_media(t, form, inp), []


def _ask_media(t: Texts, form: Form, inp: InputSpec) -> str:
    body = t("ask.media", what=t(f"media.{inp.type.value}"), mb=f"{limit_bytes(inp) / 2**20:g}")
    count = len(form.media.get(inp.name, []))
    if inp.is_list and count:
        body += "\n" + t("ask.media_more", count=count, max=inp.max_items or "∞")
    return body


def _marked(inp: InputSpec, form: Form) -> int | None:
    value = form.values.get(inp.name, inp.default)
    if inp.type is InputType.BOOLEAN:
        return None if value is None else int(bool(value))
    options = list(inp.values or ())
    return options.index(value) if value in options else None


def settings_screen(t: Texts, spec: ModelSpec, form: Form) -> Screen:
    inputs = optional_inputs(spec)
    lines = [t("settings.line", label=label(i, t.lang), value=current(i, form, t)) for i in inputs]
    body = t.markup("settings.title", title=_e(title(spec, t.lang)), lines="\n".join(lines))
    items = [(f"{label(i, t.lang)}: {current(i, form, t)}"[:60], i.name) for i in inputs]
    return body, keyboards.settings(t, form.nonce, items)


async def confirm_screen(
    t: Texts, services: Services, spec: ModelSpec, form: Form, user: UserRecord
) -> Screen:
    """Model, parameters, exact price and the balance after. Raises: InvalidParameters."""
    quote = services.generation.quote(spec.id, form.raw(spec))
    form.price = quote.stars
    head = t.markup(
        "confirm.title",
        title=_e(title(spec, t.lang)),
        summary=summary(spec, quote.params, t, form),
    )
    left = await free.free_left(services, user) if spec.free else 0
    if left:
        price = t("confirm.price_free", price=quote.stars, left=left - 1, balance=user.balance)
        return f"{head}\n\n{price}", keyboards.confirm(
            t, form.nonce, generate=t("button.generate_free")
        )
    if user.balance < quote.stars:
        short = t(
            "confirm.short",
            price=quote.stars,
            balance=user.balance,
            missing=quote.stars - user.balance,
        )
        return f"{head}\n\n{short}", keyboards.confirm(t, form.nonce, generate=None)
    price = t(
        "confirm.price", price=quote.stars, balance=user.balance, after=user.balance - quote.stars
    )
    return f"{head}\n\n{price}", keyboards.confirm(
        t, form.nonce, generate=t("button.generate", price=quote.stars)
    )


def conflict_text(t: Texts, spec: ModelSpec, form: Form, exc: InvalidParameters) -> str:
    """Why the form's values do not fit together, in the user's language: each broken rule
    with the inputs' labels (the catalog's English lines only when no rule is broken)."""
    values = {i.name: i.default for i in spec.inputs if i.default is not None}
    problems = rule_problems(spec.constraints, values | form.raw(spec))
    lines = [_problem_text(t, spec, p) for p in problems] or list(exc.errors)
    return t("wrong.settings_conflict", details="\n".join(lines))


def _problem_text(t: Texts, spec: ModelSpec, problem: RuleProblem) -> str:
    def named(name: str) -> str:
        inp = spec.input(name)
        return label(inp, t.lang) if inp is not None else name

    def shown(name: str, value: object) -> str:
        inp = spec.input(name)
        return value_text(inp, value, t) if inp is not None else format_value(value)

    conditions = ", ".join(
        f"{named(k)}: {shown(k, v[0] if isinstance(v, tuple) else v)}"
        for k, v in problem.rule.when.items()
    )
    when = t("wrong.rule_when", conditions=conditions) if conditions else ""
    field = named(problem.names[0])
    if problem.kind == "one_of":
        fields = ", ".join(named(n) for n in problem.names)
        return t("wrong.rule_one_of", fields=fields, when=when)
    if problem.kind == "not_allowed":
        value = shown(problem.names[0], problem.value)
        return t("wrong.rule_not_allowed", field=field, value=value, when=when)
    if problem.kind == "too_long":
        return t("wrong.rule_too_long", field=field, limit=problem.limit, when=when)
    return t("wrong.rule_required", field=field, when=when)


def _e(value: str) -> str:
    from html import escape

    return escape(value, quote=False)
