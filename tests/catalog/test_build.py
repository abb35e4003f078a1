from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from trt.catalog.build import (
    BUILT_FILE,
    build_registry,
    parse_built,
    render,
    validate_registry,
)
from trt.catalog.sources import load_sources
from trt.errors import RegistryInvalid


class TestRender:
    def test_snapshot(self, mini_dir: Path, snapshot: SnapshotAssertion) -> None:
        """The built file for three sources matches the reviewed snapshot."""
        build_registry(mini_dir)
        assert (mini_dir / BUILT_FILE).read_text(encoding="utf-8") == snapshot

    def test_source_order_does_not_matter(self, repo_root: Path) -> None:
        """Shuffling the specs produces byte-identical output."""
        specs, _ = load_sources(repo_root / "registry")
        shuffled = list(specs)
        random.Random(7).shuffle(shuffled)
        assert render(shuffled) == render(specs)

    def test_checksum_covers_the_content(self, mini_dir: Path) -> None:
        """The embedded checksum is of the models, so editing one breaks it."""
        result = build_registry(mini_dir)
        document = json.loads(result.path.read_bytes())
        document["models"][0]["deadline_seconds"] = 1
        with pytest.raises(RegistryInvalid, match="checksum"):
            parse_built(json.dumps(document).encode())

    def test_models_are_sorted(self, mini_dir: Path) -> None:
        """Models appear in id order."""
        result = build_registry(mini_dir)
        ids = [m["id"] for m in json.loads(result.path.read_bytes())["models"]]
        assert ids == sorted(ids)


class TestBuild:
    def test_rebuild_is_byte_identical(self, mini_dir: Path) -> None:
        """Building twice from the same sources leaves the same bytes and reports no change."""
        first = build_registry(mini_dir)
        content = first.path.read_bytes()
        second = build_registry(mini_dir)
        assert (first.changed, second.changed) == (True, False)
        assert second.path.read_bytes() == content

    def test_counts(self, mini_dir: Path) -> None:
        """The result counts models and visible models."""
        result = build_registry(mini_dir)
        assert (result.models, result.visible) == (3, 3)
        assert result.checksum.startswith("sha256:")


class TestStaleness:
    def test_committed_registry_is_current(self, repo_root: Path) -> None:
        """registry/registry.json matches a fresh build of registry/models (CI fails otherwise)."""
        assert validate_registry(repo_root / "registry") == []

    def test_missing_file_is_stale(self, mini_dir: Path) -> None:
        """Without a built file the registry is stale and says how to fix it."""
        assert validate_registry(mini_dir) == [
            "registry.json: -: missing; run `trt registry build`"
        ]

    def test_edited_source_makes_it_stale(self, mini_dir: Path) -> None:
        """Changing a source after a build is detected."""
        build_registry(mini_dir)
        assert validate_registry(mini_dir) == []
        source = mini_dir / "models" / "veo-3.1" / "fast.toml"
        source.write_text(source.read_text().replace("2400", "2500"))
        assert validate_registry(mini_dir) == [
            "registry.json: -: stale (sources changed); run `trt registry build`"
        ]

    def test_damaged_file_is_reported(self, mini_dir: Path) -> None:
        """A built file that is not JSON is a problem, not a crash."""
        (mini_dir / BUILT_FILE).write_text("{")
        problems = validate_registry(mini_dir)
        assert len(problems) == 1
        assert problems[0].startswith("registry.json: -: not a registry file")
