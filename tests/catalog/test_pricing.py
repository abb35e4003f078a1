from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.catalog.catalog_prices import CASES
from trt.catalog.examples import domain, price_inputs, sample_params
from trt.catalog.kinds import InputType
from trt.catalog.pricing import Pricing, credits_for, stars_for
from trt.catalog.registry import Registry
from trt.errors import InvalidParameters, PriceUnknown
from trt.settings import Settings

DEFAULT = Pricing(Decimal("0.005"), Decimal("0.013"), Decimal("1.5"))


class TestCatalogPrices:
    @pytest.mark.parametrize(("model", "overrides", "credits"), CASES)
    def test_matches_catalog(
        self, registry: Registry, model: str, overrides: dict[str, Any], credits: str
    ) -> None:
        """The registry prices each catalogue row at the catalogue's credits."""
        spec = registry.get(model)
        assert credits_for(spec, sample_params(spec, overrides)) == Decimal(credits)

    def test_every_visible_model_has_a_catalog_case(self, registry: Registry) -> None:
        """No visible model escapes the price check above."""
        assert {s.id for s in registry.visible()} <= {model for model, _, _ in CASES}


class TestRules:
    def test_per_second_scales_with_duration(self, registry: Registry) -> None:
        """Twice the seconds cost twice the credits (no ignored per-second prices)."""
        spec = registry.get("happyhorse/text-to-video")
        five = credits_for(spec, sample_params(spec, {"duration": 5}))
        ten = credits_for(spec, sample_params(spec, {"duration": 10}))
        assert (five, ten) == (Decimal(240), Decimal(480))

    def test_per_character(self, registry: Registry) -> None:
        """Speech is priced per 1000 characters of text, proportionally."""
        spec = registry.get("elevenlabs/text-to-speech-turbo-2-5")
        assert credits_for(spec, sample_params(spec, {"text": "x" * 2500})) == Decimal(15)

    def test_multiplier(self, registry: Registry) -> None:
        """Several images cost the per-image price times the count."""
        spec = registry.get("ideogram/character")
        params = sample_params(spec, {"num_images": "3", "rendering_speed": "TURBO"})
        assert credits_for(spec, params) == Decimal(36)

    def test_unpriced_combination_is_an_error_not_a_guess(self, registry: Registry) -> None:
        """A combination missing from the table raises instead of falling back to a cheaper row."""
        spec = registry.get("hailuo/2-3-image-to-video-pro")
        params = {"prompt": "x", "image_url": "u", "duration": "10", "resolution": "1080P"}
        with pytest.raises(InvalidParameters, match="no price for duration=10, resolution=1080P"):
            credits_for(spec, params)

    def test_hidden_model_without_price(self, registry: Registry) -> None:
        """Quoting a model with no known price raises PriceUnknown with the reason."""
        spec = registry.get("bytedance/seedream")
        with pytest.raises(PriceUnknown, match="not in the 2026-06 KIE pricing snapshot"):
            credits_for(spec, sample_params(spec))


class TestStars:
    @pytest.mark.parametrize(
        ("credits", "stars"),
        [("100", 58), ("12", 7), ("1", 1), ("0.216", 1), ("26", 15), ("0.001", 1)],
    )
    def test_rounds_up_with_a_minimum_of_one(self, credits: str, stars: int) -> None:
        """Stars = credits × 0.005 × 1.5 ÷ 0.013, rounded up, at least 1."""
        assert DEFAULT.stars(Decimal(credits)) == stars

    def test_exact_multiples_are_not_rounded_up(self) -> None:
        """When the division is exact the result is not bumped by one."""
        stars = stars_for(
            Decimal(100),
            usd_per_credit=Decimal("0.01"),
            usd_per_star=Decimal(1),
            markup=Decimal(2),
        )
        assert stars == 2

    def test_from_settings(self) -> None:
        """Settings floats become exact decimals."""
        settings = Settings(_env_file=None, usd_per_star=0.02, price_markup=2)
        assert Pricing.from_settings(settings) == Pricing(
            Decimal("0.005"), Decimal("0.02"), Decimal("2.0")
        )


class TestPriceProperties:
    def test_every_priced_combination_is_positive(self, registry: Registry) -> None:
        """Every allowed combination of the inputs a price depends on gives credits > 0."""
        checked = 0
        for spec in (s for s in registry if s.pricing is not None):
            inputs = price_inputs(spec)
            for combo in itertools.product(*(domain(i) for i in inputs)):
                raw = {i.name: v for i, v in zip(inputs, combo, strict=True) if v is not None}
                try:
                    params = sample_params(spec, raw)
                except InvalidParameters:
                    continue
                credits = credits_for(spec, params)
                assert credits > 0, (spec.id, raw)
                assert DEFAULT.stars(credits) >= 1
                checked += 1
        assert checked > 300

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def test_any_valid_parameters_price(self, registry: Registry, data: st.DataObject) -> None:
        """Whatever valid enum, boolean and in-range numbers a user picks, a price exists."""
        spec = data.draw(st.sampled_from([s for s in registry if s.pricing is not None]))
        raw: dict[str, Any] = {}
        for inp in spec.inputs:
            if inp.type is InputType.ENUM and inp.values:
                raw[inp.name] = data.draw(st.sampled_from(inp.values))
            elif inp.type is InputType.BOOLEAN:
                raw[inp.name] = data.draw(st.booleans())
            elif inp.type is InputType.INTEGER and inp.min is not None and inp.max is not None:
                raw[inp.name] = data.draw(st.integers(int(inp.min), int(inp.max)))
        try:
            params = sample_params(spec, raw)
        except InvalidParameters:
            return
        assert DEFAULT.stars(credits_for(spec, params)) >= 1
