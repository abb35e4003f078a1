"""A half-filled form, as kept in the FSM storage (plain JSON), and the order of its steps.

Required inputs are asked first (media, then text, then the rest); optional ones wait on
the settings screen. Media inputs hold Telegram file ids until "Generate" uploads them.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from trt.catalog.kinds import InputType
from trt.catalog.params import required_by_rules
from trt.catalog.spec import InputSpec, ModelSpec

MEDIA_PLACEHOLDER = "tg:"  # stands in for an upload in quotes; replaced by KIE URLs


@dataclass
class MediaItem:
    file_id: str
    mime: str
    size: int
    name: str


@dataclass
class Form:
    model: str
    nonce: str = field(default_factory=lambda: secrets.token_hex(4))
    values: dict[str, Any] = field(default_factory=dict)
    media: dict[str, list[MediaItem]] = field(default_factory=dict)
    step: str | None = None
    answered: list[str] = field(default_factory=list)
    editing: bool = False  # the current step was opened from the settings screen
    job: str | None = None  # the job "Generate" started (STARTING while a press runs)
    status: int | None = None  # the status message id that press sent
    price: int | None = None  # the price the confirmation showed; Generate charges only that
    screen: int | None = None  # the message showing the form now (older ones lose buttons)

    def to_data(self) -> dict[str, Any]:
        return {"form": asdict(self)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Form | None:
        raw = data.get("form")
        if not isinstance(raw, dict):
            return None
        media = {k: [MediaItem(**m) for m in v] for k, v in raw.get("media", {}).items()}
        return cls(**{**raw, "media": media})

    def has(self, name: str) -> bool:
        return name in self.values or bool(self.media.get(name))

    def raw(self, spec: ModelSpec) -> dict[str, Any]:
        """Parameters for a quote: the values, and a placeholder per uploaded file."""
        raw = dict(self.values)
        for name, items in self.media.items():
            inp = spec.input(name)
            placeholders = [f"{MEDIA_PLACEHOLDER}{m.file_id}" for m in items]
            if inp is not None and placeholders:
                raw[name] = placeholders if inp.is_list else placeholders[0]
        return raw

    def clear(self, name: str) -> None:
        self.values.pop(name, None)
        self.media.pop(name, None)


def _rank(inp: InputSpec) -> int:
    if inp.is_media:
        return 0
    if inp.type is InputType.TEXT:
        return 1
    return 2


def required_steps(spec: ModelSpec, form: Form) -> list[InputSpec]:
    """Required inputs in asking order: media, then text (the prompt), then the rest. A
    cross-field rule's required inputs count too, so the form asks for them instead of
    greeting the user with the rule (Suno: the description, or lyrics, style and title)."""
    ruled = set(required_by_rules(spec, form.raw(spec)))
    return sorted((i for i in spec.inputs if i.required or i.name in ruled), key=_rank)


def needed(spec: ModelSpec, form: Form, inp: InputSpec) -> bool:
    """Whether `inp` must be given now (by the model, or by a rule the form's values meet)."""
    return inp.required or inp.name in required_by_rules(spec, form.raw(spec))


def optional_inputs(spec: ModelSpec) -> list[InputSpec]:
    return [i for i in spec.inputs if not i.required]


def next_step(spec: ModelSpec, form: Form) -> InputSpec | None:
    """The first required input still missing, or None when the form can be confirmed."""
    return next((i for i in required_steps(spec, form) if not form.has(i.name)), None)


def prompt_input(spec: ModelSpec) -> InputSpec | None:
    """The model's main text input (for "Change prompt")."""
    texts = [i for i in spec.inputs if i.type is InputType.TEXT]
    return next((i for i in texts if i.name == "prompt"), texts[0] if texts else None)
