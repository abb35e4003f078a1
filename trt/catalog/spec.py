"""The shape of one model in the registry: inputs, constraints, pricing rule.

The same classes read the TOML sources (extra keys forbidden, so typos surface) and the
built `registry.json`. Semantic checks that need the whole spec live in `checks.py`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from trt.catalog.kinds import LIST_TYPES, MEDIA_TYPES, Category, InputType, OutputKind
from trt.domain import Family, ModelId

Scalar = StrictStr | StrictBool | StrictInt | StrictFloat
Credits = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=6)]
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Localized(_Frozen):
    """A text in both languages the bot speaks."""

    en: Annotated[str, Field(min_length=1)]
    ru: Annotated[str, Field(min_length=1)]


class InputSpec(_Frozen):
    """One parameter a user fills in; `name` is the field name sent to KIE."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    type: InputType
    label: Localized | None = None
    required: bool = False
    default: Scalar | tuple[StrictStr, ...] | None = None
    values: tuple[Scalar, ...] | None = None
    labels: dict[str, Localized] | None = None
    min: StrictInt | StrictFloat | None = None
    max: StrictInt | StrictFloat | None = None
    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(gt=0)] | None = None
    max_items: Annotated[int, Field(gt=0)] | None = None
    media_types: tuple[str, ...] | None = None
    max_bytes: Annotated[int, Field(gt=0)] | None = None

    @property
    def is_media(self) -> bool:
        return self.type in MEDIA_TYPES

    @property
    def is_list(self) -> bool:
        return self.type in LIST_TYPES


class Constraint(_Frozen):
    """A rule between inputs, applied when every `when` input has one of the given values."""

    when: dict[str, Scalar | tuple[Scalar, ...]] = Field(default_factory=dict)
    allow: dict[str, tuple[Scalar, ...]] = Field(default_factory=dict)
    require: tuple[str, ...] = ()
    require_one_of: tuple[str, ...] = ()
    max_length: dict[str, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    labels: dict[str, Localized] | None = None  # what an input means while the rule applies
    reason: str | None = None


class PriceRow(_Frozen):
    """Credits for one combination of the table's key inputs."""

    when: dict[str, Scalar]
    credits: Credits


class _Rule(_Frozen):
    multiply_by: str | None = None
    minimum: Credits | None = None


class FixedPrice(_Rule):
    kind: Literal["fixed"]
    credits: Credits


class TablePrice(_Rule):
    kind: Literal["table"]
    keys: Annotated[tuple[str, ...], Field(min_length=1)]
    rows: Annotated[tuple[PriceRow, ...], Field(min_length=1)]


class PerUnitPrice(_Rule):
    """`credits` (or a table row's credits) per `per` units of the `quantity` input."""

    kind: Literal["per_unit"]
    unit: Literal["second", "character", "megapixel"]
    quantity: str
    per: Credits = Decimal(1)
    credits: Credits | None = None
    keys: tuple[str, ...] = ()
    rows: tuple[PriceRow, ...] = ()
    megapixels: dict[str, Credits] | None = None


PricingRule = Annotated[FixedPrice | TablePrice | PerUnitPrice, Field(discriminator="kind")]


class ModelSpec(_Frozen):
    """Everything trt knows about one KIE model."""

    id: Annotated[ModelId, Field(pattern=ID_PATTERN)]
    family: Family
    api_model: Annotated[str, Field(min_length=1)]
    category: Category
    output: OutputKind
    title: Localized
    description: Localized
    inputs: tuple[InputSpec, ...]
    fixed: dict[str, Scalar] = Field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    pricing: PricingRule | None = None
    deadline_seconds: Annotated[int, Field(gt=0)]
    visible: bool = True
    free: bool = False
    hidden_reason: str | None = None
    doc_url: str | None = None
    notes: str | None = None

    def input(self, name: str) -> InputSpec | None:
        """The input called `name`, if the model has one."""
        return next((i for i in self.inputs if i.name == name), None)

    @property
    def media_inputs(self) -> tuple[InputSpec, ...]:
        """Inputs that take uploaded files (URLs after upload)."""
        return tuple(i for i in self.inputs if i.is_media)
