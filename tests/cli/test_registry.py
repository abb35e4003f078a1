from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import CliInvoke

MODELS = ("flux-2/pro-text-to-image", "hailuo/2-3-image-to-video-pro", "suno/v5")


@pytest.fixture
def folder(repo_root: Path, tmp_path: Path) -> Path:
    """A registry folder with three real sources and no built file."""
    target = tmp_path / "reg"
    for model_id in MODELS:
        path = target / "models" / f"{model_id}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo_root / "registry" / "models" / f"{model_id}.toml", path)
    return target


class TestBuild:
    def test_build_writes_and_reports(self, trt: CliInvoke, folder: Path) -> None:
        """Build writes registry.json and prints the counts and checksum."""
        result = trt("registry", "build", "--registry", str(folder))
        assert result.exit_code == 0, result.output
        assert "3 models (3 visible, 0 hidden), sha256:" in result.output
        assert (folder / "registry.json").is_file()

    def test_second_build_changes_nothing(self, trt: CliInvoke, folder: Path) -> None:
        """Rebuilding unchanged sources says so and keeps the bytes."""
        trt("registry", "build", "--registry", str(folder))
        before = (folder / "registry.json").read_bytes()
        result = trt("registry", "build", "--registry", str(folder))
        assert "already up to date" in result.output
        assert (folder / "registry.json").read_bytes() == before

    def test_broken_source_fails_and_writes_nothing(self, trt: CliInvoke, folder: Path) -> None:
        """A malformed source exits non-zero, lists the problem, and writes no file."""
        source = folder / "models" / "suno" / "v5.toml"
        source.write_text(source.read_text().replace("deadline_seconds", "deadline"))
        result = trt("registry", "build", "--registry", str(folder))
        assert result.exit_code == 1
        assert "models/suno/v5.toml: deadline_seconds: Field required" in result.output
        assert "models/suno/v5.toml: deadline: Extra inputs are not permitted" in result.output
        assert not (folder / "registry.json").exists()


class TestValidate:
    def test_repository_registry_is_valid(self, trt: CliInvoke) -> None:
        """The committed sources and built file pass validation."""
        result = trt("registry", "validate")
        assert result.exit_code == 0, result.output
        assert "registry.json is current" in result.output

    def test_stale_file_fails(self, trt: CliInvoke, folder: Path) -> None:
        """Editing a source after the build makes validate fail with a fix hint."""
        trt("registry", "build", "--registry", str(folder))
        source = folder / "models" / "suno" / "v5.toml"
        source.write_text(
            source.read_text().replace("deadline_seconds = 900", "deadline_seconds = 901")
        )
        result = trt("registry", "validate", "--registry", str(folder))
        assert result.exit_code == 1
        assert (
            "registry.json: -: stale (sources changed); run `trt registry build`" in result.output
        )

    def test_environment_variable_picks_the_folder(self, trt: CliInvoke, folder: Path) -> None:
        """TRT_REGISTRY_DIR is used when --registry is not given."""
        result = trt("registry", "validate", env={"TRT_REGISTRY_DIR": str(folder)})
        assert result.exit_code == 1
        assert "registry.json: -: missing; run `trt registry build`" in result.output


class TestList:
    def test_json_fields(self, trt: CliInvoke) -> None:
        """--json gives one object per model with stable field names."""
        result = trt("registry", "list", "--json")
        assert result.exit_code == 0, result.output
        models = json.loads(result.output)["models"]
        assert len(models) == 89
        assert set(models[0]) == {
            "id",
            "title",
            "family",
            "api_model",
            "category",
            "output",
            "visible",
            "hidden_reason",
            "min_credits",
            "min_stars",
        }

    def test_category_filter(self, trt: CliInvoke) -> None:
        """--category keeps only that category."""
        result = trt("registry", "list", "--category", "music", "--json")
        ids = [m["id"] for m in json.loads(result.output)["models"]]
        assert ids == [
            "suno/v4",
            "suno/v4-5",
            "suno/v4-5-all",
            "suno/v4-5-plus",
            "suno/v5",
            "suno/v5-5",
        ]

    def test_all_includes_hidden_with_reason(self, trt: CliInvoke) -> None:
        """--all adds hidden models, each with its reason and no price."""
        models = json.loads(trt("registry", "list", "--all", "--json").output)["models"]
        hidden = [m for m in models if not m["visible"]]
        assert len(models) == 126 and len(hidden) == 37
        assert all(m["hidden_reason"] for m in hidden)

    def test_all_table_has_the_reason_column(self, trt: CliInvoke) -> None:
        """--all in the table too: a "hidden because" column, filled for hidden models."""
        result = trt("registry", "list", "--all", "--category", "upscale")
        assert result.exit_code == 0, result.output
        assert "hidden because" in result.output
        # Not a terminal: no 80-column folding, so ids and reasons stay on one line each.
        reason = "priced by output size (2K 10 cr, 4K 20 cr, 8K 40 cr), which depends on"
        assert any(
            "topaz/image-upscale" in ln and reason in ln for ln in result.output.splitlines()
        )

    def test_table(self, trt: CliInvoke, snapshot: SnapshotAssertion) -> None:
        """The human listing shows id, category, title and the lowest price."""
        result = trt("registry", "list", "--category", "background-removal")
        assert result.output == snapshot


class TestShow:
    def test_human_output(self, trt: CliInvoke, snapshot: SnapshotAssertion) -> None:
        """show prints the model, its inputs with defaults and limits, and example prices."""
        result = trt("registry", "show", "hailuo/2-3-image-to-video-pro")
        assert result.exit_code == 0, result.output
        assert result.output == snapshot

    def test_json_has_spec_and_prices(self, trt: CliInvoke) -> None:
        """show --json is the spec plus example prices in credits and Stars."""
        result = trt("registry", "show", "veo-3.1/fast", "--json")
        data = json.loads(result.output)
        assert (data["family"], data["api_model"]) == ("veo", "veo3_fast")
        assert data["example_prices"][0] == {
            "parameters": {"resolution": "720p"},
            "credits": "60",
            "stars": 35,
        }

    def test_a_hidden_model_is_shown_marked_hidden(self, trt: CliInvoke) -> None:
        """A hidden model (no price yet) is shown, marked hidden with its reason."""
        result = trt("registry", "show", "topaz/image-upscale")
        assert result.exit_code == 0, result.output
        assert "visible      no — priced by output size" in result.output
        assert "pricing      unknown" in result.output

    def test_unknown_model_suggests(self, trt: CliInvoke) -> None:
        """An unknown id exits 3 and suggests the closest ids."""
        result = trt("registry", "show", "kling-3.0/vidoe")
        assert result.exit_code == 3
        assert "unknown model: kling-3.0/vidoe (did you mean: kling-3.0/video" in result.output

    def test_prices_follow_settings(self, trt: CliInvoke) -> None:
        """The Star price uses USD_PER_STAR and PRICE_MARKUP from the environment."""
        env = {"USD_PER_STAR": "0.01", "PRICE_MARKUP": "2"}
        result = trt("registry", "show", "veo-3.1/fast", "--json", env=env)
        assert json.loads(result.output)["example_prices"][0]["stars"] == 60
