"""How inputs and their values read in the chat, in the user's language."""

from __future__ import annotations

from typing import Any

from trt.bot.texts import Texts, clip
from trt.bot.wizard.form import Form
from trt.catalog.kinds import InputType
from trt.catalog.params import applies, format_value
from trt.catalog.spec import InputSpec, Localized, ModelSpec

VALUE_CLIP = 300


def localized(value: Localized, lang: str) -> str:
    return value.ru if lang == "ru" else value.en


def title(spec: ModelSpec, lang: str) -> str:
    return localized(spec.title, lang)


def label(inp: InputSpec, lang: str) -> str:
    return localized(inp.label, lang) if inp.label else inp.name.replace("_", " ")


def step_label(spec: ModelSpec, form: Form, inp: InputSpec, lang: str) -> str:
    """What a step asks for: a rule may say what the input means under the form's values
    (Suno's prompt is the song's description in simple mode, the lyrics in custom mode)."""
    values = {i.name: i.default for i in spec.inputs if i.default is not None} | form.raw(spec)
    for rule in spec.constraints:
        meant = (rule.labels or {}).get(inp.name)
        if meant is not None and applies(rule, values):
            return localized(meant, lang)
    return label(inp, lang)


def value_text(inp: InputSpec, value: Any, t: Texts) -> str:
    """A value as the user should read it: enum labels, yes/no, clipped long text."""
    if inp.type is InputType.BOOLEAN:
        return t("button.yes") if value else t("button.no")
    labels = inp.labels or {}
    shown = labels.get(format_value(value))
    if shown is not None:
        return localized(shown, t.lang)
    return clip(format_value(value), VALUE_CLIP)


def current(inp: InputSpec, form: Form, t: Texts) -> str:
    """The form's value for `inp`, its default marked, or a dash."""
    if inp.is_media:
        count = len(form.media.get(inp.name, []))
        return t("confirm.files", count=count) if count else t("settings.unset")
    if inp.name in form.values:
        return value_text(inp, form.values[inp.name], t)
    if inp.default is not None:
        return t("settings.default_mark", value=value_text(inp, inp.default, t))
    return t("settings.unset")


def summary(spec: ModelSpec, params: dict[str, Any], t: Texts, form: Form | None = None) -> str:
    """One line per given parameter, media as a file count (markup: values escaped)."""
    lines = []
    for inp in spec.inputs:
        if inp.is_media:
            count = len(form.media.get(inp.name, [])) if form else _count(params.get(inp.name))
            if count:
                lines.append(t("confirm.line", label=label(inp, t.lang),
                               value=t.markup("confirm.files", count=count)))  # fmt: skip
        elif params.get(inp.name) is not None:
            value = value_text(inp, params[inp.name], t)
            lines.append(t("confirm.line", label=label(inp, t.lang), value=value))
    return "\n".join(lines)


def _count(value: Any) -> int:
    if isinstance(value, list | tuple):
        return len(value)
    return 1 if value else 0


def key_params(spec: ModelSpec, params: dict[str, Any], t: Texts) -> str:
    """A short "a · b · " of enum/number choices for a caption."""
    picked = [
        value_text(i, params[i.name], t)
        for i in spec.inputs
        if i.type in (InputType.ENUM, InputType.INTEGER, InputType.NUMBER)
        and params.get(i.name) is not None
    ][:3]
    return "".join(f"{clip(p, 20)} · " for p in picked)
