"""Loading the per-model TOML sources under `registry/models/`, reporting every problem."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trt.catalog.checks import check_spec
from trt.catalog.spec import ModelSpec

SOURCES_DIR = "models"
SOURCE_SUFFIX = ".toml"
# Pydantic reports a failed union once per member; these loc parts name the member.
_UNION_TAGS = frozenset({"str", "bool", "int", "float", "tuple[str, ...]", "decimal"})


def source_paths(registry_dir: Path) -> list[Path]:
    """The model source files, sorted by path."""
    return sorted((registry_dir / SOURCES_DIR).rglob(f"*{SOURCE_SUFFIX}"))


def expected_source(model_id: str) -> str:
    """Where the source of `model_id` lives, relative to the registry dir."""
    return f"{SOURCES_DIR}/{model_id}{SOURCE_SUFFIX}"


def load_sources(registry_dir: Path) -> tuple[list[ModelSpec], list[str]]:
    """Every spec that loads cleanly, and every problem as `file: field: message`."""
    paths = source_paths(registry_dir)
    if not paths:
        return [], [f"{SOURCES_DIR}/: -: no model sources (*{SOURCE_SUFFIX}) found"]
    specs: list[ModelSpec] = []
    problems: list[str] = []
    for path in paths:
        rel = path.relative_to(registry_dir).as_posix()
        spec, found = load_source(path, rel)
        problems += [f"{rel}: {p}" for p in found]
        if spec is not None and not found:
            specs.append(spec)
    return specs, problems


def load_source(path: Path, rel: str) -> tuple[ModelSpec | None, list[str]]:
    """One source file: the spec (if it parses) and its problems as `field: message`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"-: not valid TOML: {exc}"]
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        return None, _describe(exc)
    problems = check_spec(spec)
    if rel != expected_source(spec.id):
        problems.append(f"id: {spec.id!r} must live in {expected_source(spec.id)}")
    return spec, problems


def _describe(exc: ValidationError) -> list[str]:
    grouped: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        if len(loc) > 1 and str(loc[-1]) in _UNION_TAGS:
            loc = loc[:-1]
        messages = grouped.setdefault(_loc_text(loc), [])
        if error["msg"] not in messages:
            messages.append(error["msg"])
    return [f"{loc}: {' or '.join(msgs)}" for loc, msgs in grouped.items()]


def _loc_text(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "-"
