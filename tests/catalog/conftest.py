"""Fixtures for catalog tests: the repository's registry and small copies to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trt.catalog.registry import Registry

MINI = ("flux-2/pro-text-to-image", "hailuo/2-3-image-to-video-pro", "veo-3.1/fast")


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The built registry committed in the repository."""
    return Registry.load(Path(__file__).resolve().parents[2] / "registry")


@pytest.fixture
def mini_dir(repo_root: Path, tmp_path: Path) -> Path:
    """A registry folder with three real sources and no built file."""
    folder = tmp_path / "reg"
    for model_id in MINI:
        target = folder / "models" / f"{model_id}.toml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo_root / "registry" / "models" / f"{model_id}.toml", target)
    return folder


def write_source(folder: Path, model_id: str, text: str) -> Path:
    """Put a source for `model_id` in the registry folder."""
    path = folder / "models" / f"{model_id}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
id = "acme/tiny"
family = "market"
api_model = "acme/tiny"
category = "text-to-image"
output = "image"
deadline_seconds = 600

[title]
en = "Tiny"
ru = "Малыш"

[description]
en = "A tiny model."
ru = "Маленькая модель."

[[inputs]]
name = "prompt"
type = "text"
required = true

[pricing]
kind = "fixed"
credits = 3
"""
