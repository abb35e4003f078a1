"""Building `registry.json` deterministically from the sources, and checking it is current.

Same sources → byte-identical file: models sorted by id, keys sorted, no timestamps, and a
sha256 of the canonical models JSON inside so a hand-edited file is detected.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trt.catalog.sources import load_sources
from trt.catalog.spec import ModelSpec
from trt.errors import RegistryInvalid

BUILT_FILE = "registry.json"
FORMAT = 1


@dataclass(frozen=True)
class BuildResult:
    path: Path
    models: int
    visible: int
    checksum: str
    changed: bool


def render(specs: Sequence[ModelSpec]) -> bytes:
    """The registry file for `specs`: sorted, with a content checksum."""
    models = [s.model_dump(mode="json", exclude_none=True) for s in sorted(specs, key=_by_id)]
    document = {"format": FORMAT, "checksum": checksum(models), "models": models}
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def checksum(models: list[dict[str, Any]]) -> str:
    """sha256 of the canonical (compact, key-sorted) JSON of the models list."""
    canonical = json.dumps(models, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_registry(registry_dir: Path) -> BuildResult:
    """Write registry.json from the sources. Raises: RegistryInvalid (nothing is written)."""
    specs, problems = load_sources(registry_dir)
    if problems:
        raise RegistryInvalid(problems)
    content = render(specs)
    path = registry_dir / BUILT_FILE
    changed = not path.exists() or path.read_bytes() != content
    if changed:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)
    digest = json.loads(content)["checksum"]
    visible = sum(s.visible for s in specs)
    return BuildResult(path, len(specs), visible, digest, changed)


def parse_built(content: bytes, where: str = BUILT_FILE) -> list[ModelSpec]:
    """The specs in a built file. Raises: RegistryInvalid (bad JSON, checksum or schema)."""
    try:
        document = json.loads(content)
        models = document["models"]
        stored = document["checksum"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryInvalid([f"{where}: -: not a registry file ({exc})"]) from None
    if stored != checksum(models):
        raise RegistryInvalid([f"{where}: checksum: does not match the content; rebuild it"])
    try:
        return [ModelSpec.model_validate(m) for m in models]
    except ValidationError as exc:
        raise RegistryInvalid([f"{where}: models: {exc.error_count()} schema errors"]) from None


def built_problems(registry_dir: Path) -> list[str]:
    """Problems with the built file alone: missing, unreadable, tampered or stale."""
    specs, source_problems = load_sources(registry_dir)
    path = registry_dir / BUILT_FILE
    if not path.exists():
        return [f"{BUILT_FILE}: -: missing; run `trt registry build`"]
    content = path.read_bytes()
    try:
        parse_built(content)
    except RegistryInvalid as exc:
        return exc.problems
    if not source_problems and content != render(specs):
        return [f"{BUILT_FILE}: -: stale (sources changed); run `trt registry build`"]
    return []


def validate_registry(registry_dir: Path) -> list[str]:
    """Every problem with the sources and the built file, as `file: field: message`."""
    _, problems = load_sources(registry_dir)
    return problems + built_problems(registry_dir)


def _by_id(spec: ModelSpec) -> str:
    return spec.id
