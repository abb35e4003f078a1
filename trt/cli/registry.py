"""`trt registry …`: build, validate and browse the model registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trt.catalog.build import build_registry, validate_registry
from trt.catalog.examples import PricePoint, price_points
from trt.catalog.params import describe_allowed, format_value
from trt.catalog.pricing import Pricing
from trt.catalog.registry import ENV_VAR, Registry, resolve_registry_dir
from trt.catalog.spec import Category, FixedPrice, InputSpec, ModelSpec, PerUnitPrice
from trt.cli import console
from trt.errors import RegistryInvalid
from trt.settings import load_settings

app = typer.Typer(no_args_is_help=True, help="Build, check and browse the model registry.")

RegistryDir = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        envvar=ENV_VAR,
        file_okay=False,
        help="Registry folder (sources in models/, built registry.json). Default: the repo's.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command()
def build(registry: RegistryDir = None) -> None:
    """Write registry.json from the sources; nothing is written if a source is invalid."""
    result = build_registry(resolve_registry_dir(registry))
    state = "built" if result.changed else "already up to date:"
    hidden = result.models - result.visible
    console.success(
        f"{state} {result.path} — {result.models} models "
        f"({result.visible} visible, {hidden} hidden), {result.checksum}"
    )


@app.command()
def validate(registry: RegistryDir = None) -> None:
    """Check every source and the built file; list every problem as `file: field: message`."""
    folder = resolve_registry_dir(registry)
    problems = validate_registry(folder)
    if problems:
        raise RegistryInvalid(problems)
    console.success(f"{folder} is valid and registry.json is current")


@app.command("list")
def list_models(
    category: Annotated[
        Category | None, typer.Option(help="Only models of this category.")
    ] = None,
    include_hidden: Annotated[
        bool, typer.Option("--all", help="Include hidden models and why they are hidden.")
    ] = False,
    as_json: JsonFlag = False,
    registry: RegistryDir = None,
) -> None:
    """List models with their category and lowest example price."""
    specs = [
        s
        for s in Registry.load(resolve_registry_dir(registry))
        if (include_hidden or s.visible) and category in (None, s.category)
    ]
    pricing = Pricing.from_settings(load_settings())
    rows = [_summary(s, pricing) for s in specs]
    if as_json:
        console.json_out({"models": rows})
        return
    columns = ["id", "category", "title", "from credits", "from ⭐"]
    table = [
        [r["id"], r["category"], r["title"]["en"], r["min_credits"], r["min_stars"]] for r in rows
    ]
    console.table(columns, table, title=f"Models: {len(rows)}")


@app.command()
def show(
    model: Annotated[str, typer.Argument(help="Model id, e.g. flux-2/pro-text-to-image.")],
    as_json: JsonFlag = False,
    registry: RegistryDir = None,
) -> None:
    """Show a model: what it is, its inputs with defaults and limits, and example prices."""
    spec = Registry.load(resolve_registry_dir(registry)).get(model)
    pricing = Pricing.from_settings(load_settings())
    points = price_points(spec)
    if as_json:
        prices = [_point_json(p, pricing) for p in points]
        console.json_out({**spec.model_dump(mode="json"), "example_prices": prices})
        return
    console.fields(_about(spec))
    console.table(
        ["input", "type", "required", "default", "allowed"],
        [_input_row(i) for i in spec.inputs],
        title="Inputs",
    )
    if points:
        rows = [[_conditions(p), str(p.credits), pricing.stars(p.credits)] for p in points]
        console.table(["parameters", "credits", "⭐"], rows, title="Example prices")


def _summary(spec: ModelSpec, pricing: Pricing) -> dict[str, Any]:
    points = price_points(spec) if spec.pricing is not None else []
    low = min((p.credits for p in points), default=None)
    return {
        "id": spec.id,
        "title": {"en": spec.title.en, "ru": spec.title.ru},
        "family": spec.family.value,
        "api_model": spec.api_model,
        "category": spec.category.value,
        "output": spec.output.value,
        "visible": spec.visible,
        "hidden_reason": spec.hidden_reason,
        "min_credits": str(low) if low is not None else None,
        "min_stars": pricing.stars(low) if low is not None else None,
    }


def _about(spec: ModelSpec) -> list[tuple[str, object]]:
    shown = "yes" if spec.visible else f"no — {spec.hidden_reason}"
    fixed = ", ".join(f"{k}={format_value(v)}" for k, v in spec.fixed.items())
    return [
        ("id", spec.id),
        ("title", f"{spec.title.en} / {spec.title.ru}"),
        ("description", spec.description.en),
        ("описание", spec.description.ru),
        ("family", f"{spec.family.value} (model: {spec.api_model})"),
        ("category", f"{spec.category.value} → {spec.output.value}"),
        ("visible", shown),
        ("deadline", f"{spec.deadline_seconds} s"),
        ("pricing", _describe_pricing(spec)),
        ("always sent", fixed or None),
        ("doc", spec.doc_url),
        ("notes", spec.notes),
    ]


def _describe_pricing(spec: ModelSpec) -> str:
    rule = spec.pricing
    if rule is None:
        return "unknown (the model cannot be quoted)"
    if isinstance(rule, FixedPrice):
        text = f"{rule.credits} credits"
    elif isinstance(rule, PerUnitPrice):
        rate = f"{rule.credits} credits" if rule.credits is not None else "credits"
        by = f" (rate by {', '.join(rule.keys)})" if rule.keys else ""
        per = f"{rule.per} " if rule.per != 1 else ""
        text = f"{rate} per {per}{rule.unit} of {rule.quantity}{by}"
    else:
        text = f"table by {', '.join(rule.keys)}"
    times = f" × {rule.multiply_by}" if rule.multiply_by else ""
    floor = f", minimum {rule.minimum}" if rule.minimum else ""
    return text + times + floor


def _input_row(inp: InputSpec) -> list[object]:
    allowed = describe_allowed(inp).removeprefix("allowed: ")
    if inp.is_media and inp.max_bytes:
        types = ", ".join(t.split("/")[1] for t in inp.media_types or ())
        allowed += f"; {types}; ≤ {inp.max_bytes // (1024 * 1024)} MB each"
    default = format_value(inp.default) if inp.default is not None else None
    return [inp.name, inp.type.value, "yes" if inp.required else "", default, allowed]


def _conditions(point: PricePoint) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in point.conditions.items()) or "any"


def _point_json(point: PricePoint, pricing: Pricing) -> dict[str, Any]:
    return {
        "parameters": point.conditions,
        "credits": str(point.credits),
        "stars": pricing.stars(point.credits),
    }
