"""Where the registry lives: plain path logic, importable without pydantic."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import trt

ENV_VAR = "TRT_REGISTRY_DIR"


# Where the wheel carries the registry (pyproject's hatch force-include); a checkout has
# no such folder and reads its own `registry/`.
PACKAGED_DIR = Path(__file__).resolve().with_name("registry_data")


def default_registry_dir() -> Path:
    """The registry installed with the package, else the checkout's `registry/` folder."""
    if PACKAGED_DIR.is_dir():
        return PACKAGED_DIR
    return Path(trt.__file__).resolve().parents[1] / "registry"


def resolve_registry_dir(
    explicit: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """`explicit`, else $TRT_REGISTRY_DIR, else the installed or the checkout's registry."""
    if explicit is not None:
        return explicit
    value = (os.environ if environ is None else environ).get(ENV_VAR)
    return Path(value) if value else default_registry_dir()
