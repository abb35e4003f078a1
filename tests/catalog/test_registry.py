from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.catalog_prices import HIDDEN
from trt.catalog.build import build_registry
from trt.catalog.kinds import Category, InputType
from trt.catalog.paths import ENV_VAR, default_registry_dir, resolve_registry_dir
from trt.catalog.registry import Registry
from trt.domain import Family
from trt.errors import ModelNotFound, RegistryInvalid


class TestLookup:
    def test_get_returns_the_spec(self, registry: Registry) -> None:
        """A known id returns its spec."""
        assert registry.get("nano-banana-pro").title.en == "Nano Banana Pro"

    def test_unknown_model_suggests_close_ids(self, registry: Registry) -> None:
        """A typo raises ModelNotFound with the closest ids (difflib)."""
        with pytest.raises(ModelNotFound) as caught:
            registry.get("nano-banana-prp")
        assert caught.value.suggestions[0] == "nano-banana-pro"
        assert "did you mean: nano-banana-pro" in str(caught.value)

    def test_fragment_suggests_ids_containing_it(self, registry: Registry) -> None:
        """A bare family name suggests ids that contain it."""
        with pytest.raises(ModelNotFound) as caught:
            registry.get("suno")
        assert caught.value.suggestions
        assert all("suno" in s for s in caught.value.suggestions)

    def test_missing_built_file(self, tmp_path: Path) -> None:
        """Loading a folder without registry.json says to build it."""
        with pytest.raises(RegistryInvalid, match="run `trt registry build`"):
            Registry.load(tmp_path)

    def test_load_from_a_fresh_build(self, mini_dir: Path) -> None:
        """The runtime loads what the build wrote."""
        build_registry(mini_dir)
        assert len(Registry.load(mini_dir)) == 3


class TestCoverage:
    def test_model_count(self, registry: Registry) -> None:
        """117 catalogue models (110 Market + 7 Sora 2), 3 Veo 3.1 tiers and 6 Suno versions."""
        assert len(registry) == 126
        assert len(registry.visible()) == 126 - len(HIDDEN)

    def test_hidden_models_are_exactly_the_unpriceable_ones(self, registry: Registry) -> None:
        """Only the models without a usable price are hidden, and each says why."""
        hidden = {s.id for s in registry if not s.visible}
        assert hidden == HIDDEN
        assert all(s.hidden_reason for s in registry if not s.visible)

    def test_visible_models_have_a_price(self, registry: Registry) -> None:
        """Every visible model has a pricing rule."""
        assert all(s.pricing is not None for s in registry.visible())

    def test_veo_and_suno_carry_their_endpoint_model(self, registry: Registry) -> None:
        """Veo and Suno specs name the family and the model value their own endpoints expect."""
        veo = {s.id: s.api_model for s in registry if s.family is Family.VEO}
        suno = {s.api_model for s in registry if s.family is Family.SUNO}
        assert veo == {
            "veo-3.1/fast": "veo3_fast",
            "veo-3.1/quality": "veo3",
            "veo-3.1/lite": "veo3_lite",
        }
        assert suno == {"V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5"}

    def test_market_models_are_called_by_id(self, registry: Registry) -> None:
        """Market specs send their id as the model."""
        assert all(s.api_model == s.id for s in registry if s.family is Family.MARKET)

    def test_media_inputs_say_what_they_accept(self, registry: Registry) -> None:
        """Every media input lists MIME types and a size limit for the upload step."""
        media = [i for s in registry for i in s.media_inputs]
        assert len(media) > 100
        assert all(i.media_types and i.max_bytes for i in media)
        assert all(i.type is not InputType.TEXT for i in media)

    def test_by_category_groups_visible_models(self, registry: Registry) -> None:
        """Grouping by category covers every visible model once."""
        groups = registry.by_category()
        assert sum(len(v) for v in groups.values()) == len(registry.visible())
        assert {s.id for s in groups[Category.MUSIC]} == {
            "suno/v5-5",
            "suno/v5",
            "suno/v4-5-plus",
            "suno/v4-5-all",
            "suno/v4-5",
            "suno/v4",
        }


class TestRegistryDir:
    def test_default_is_the_repository_folder(self, repo_root: Path) -> None:
        """Without an option or variable the repository's registry/ is used."""
        assert resolve_registry_dir(environ={}) == default_registry_dir() == repo_root / "registry"

    def test_environment_variable(self, tmp_path: Path) -> None:
        """TRT_REGISTRY_DIR overrides the default."""
        assert resolve_registry_dir(environ={ENV_VAR: str(tmp_path)}) == tmp_path

    def test_explicit_wins(self, tmp_path: Path) -> None:
        """An explicit folder beats the environment."""
        chosen = tmp_path / "x"
        assert resolve_registry_dir(chosen, environ={ENV_VAR: str(tmp_path)}) == chosen
