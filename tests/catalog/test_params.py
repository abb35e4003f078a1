from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trt.catalog.examples import sample_params
from trt.catalog.kinds import InputType
from trt.catalog.params import parse_params
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.errors import InvalidParameters


def errors_of(spec: ModelSpec, raw: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidParameters) as caught:
        parse_params(spec, raw)
    return caught.value.errors


class TestParse:
    def test_defaults_are_applied(self, registry: Registry) -> None:
        """Missing optional inputs take their defaults; fixed values are added."""
        params = parse_params(registry.get("flux-2/pro-text-to-image"), {"prompt": "a cat"})
        assert params == {
            "prompt": "a cat",
            "aspect_ratio": "1:1",
            "resolution": "1K",
            "nsfw_checker": True,
        }

    def test_strings_become_typed_values(self, registry: Registry) -> None:
        """Chat strings are converted: integers, booleans, enum values of any type."""
        spec = registry.get("veo-3.1/fast")
        raw = {"prompt": "sea", "duration": "6", "seeds": "12345", "enableTranslation": "no"}
        params = parse_params(spec, raw)
        assert (params["duration"], params["seeds"], params["enableTranslation"]) == (
            6,
            12345,
            False,
        )

    def test_typed_values_are_accepted(self, registry: Registry) -> None:
        """Already-typed values pass through unchanged."""
        spec = registry.get("happyhorse/text-to-video")
        params = parse_params(spec, {"prompt": "x", "duration": 7, "resolution": "720p"})
        assert (params["duration"], params["resolution"]) == (7, "720p")

    def test_enum_matching_ignores_case(self, registry: Registry) -> None:
        """'turbo' selects TURBO when that is unambiguous."""
        spec = registry.get("ideogram/v3-edit")
        raw = {"prompt": "x", "image_url": "u", "mask_url": "m", "rendering_speed": "turbo"}
        assert parse_params(spec, raw)["rendering_speed"] == "TURBO"

    def test_media_lists_accept_one_string(self, registry: Registry) -> None:
        """A single URL for a list input becomes a one-item list."""
        spec = registry.get("google/nano-banana-edit")
        params = parse_params(spec, {"prompt": "x", "image_urls": "https://e.com/a.png"})
        assert params["image_urls"] == ["https://e.com/a.png"]


class TestErrors:
    def test_out_of_range_names_the_range(self, registry: Registry) -> None:
        """A number outside its limits names the field and the allowed range."""
        spec = registry.get("happyhorse/text-to-video")
        assert errors_of(spec, {"prompt": "x", "duration": "40"}) == [
            "duration: 40 is out of range; allowed: a whole number from 3 to 15"
        ]

    def test_value_not_in_enum_lists_the_values(self, registry: Registry) -> None:
        """A value outside the enum names the field and every allowed value."""
        spec = registry.get("flux-2/pro-text-to-image")
        assert errors_of(spec, {"prompt": "x", "resolution": "4K"}) == [
            "resolution: '4K' is not allowed; allowed: 1K, 2K"
        ]

    def test_every_error_is_reported(self, registry: Registry) -> None:
        """Several bad fields produce one error each, unknown names included."""
        spec = registry.get("flux-2/pro-text-to-image")
        errors = errors_of(spec, {"resolution": "8K", "colour": "red"})
        assert [e.split(":")[0] for e in errors] == ["colour", "prompt", "resolution"]
        assert errors[0].startswith("colour: unknown parameter; known: prompt, aspect_ratio")

    def test_fixed_values_cannot_be_changed(self, registry: Registry) -> None:
        """Values the registry fixes (content filtering) are refused."""
        spec = registry.get("z-image")
        assert errors_of(spec, {"prompt": "x", "nsfw_checker": "false"}) == [
            "nsfw_checker: fixed to true for this model"
        ]

    def test_text_too_long(self, registry: Registry) -> None:
        """A prompt over the limit says how long it may be."""
        spec = registry.get("z-image")
        assert errors_of(spec, {"prompt": "x" * 1001}) == [
            "prompt: 1001 characters; allowed: text, up to 1000 characters"
        ]

    def test_too_many_items(self, registry: Registry) -> None:
        """A list longer than max_items is refused."""
        spec = registry.get("happyhorse/image-to-video")
        assert errors_of(spec, {"image_urls": ["a", "b"]}) == [
            "image_urls: 2 given; allowed: up to 1 images URLs"
        ]

    def test_constraint_between_inputs(self, registry: Registry) -> None:
        """A combination KIE refuses (1080P for 10 s) is an error naming the allowed values."""
        spec = registry.get("hailuo/2-3-image-to-video-pro")
        raw = {"prompt": "x", "image_url": "u", "duration": "10", "resolution": "1080P"}
        assert errors_of(spec, raw) == [
            "duration: 10 is not allowed when resolution=1080P "
            "(KIE: 1080P does not support 10 s); allowed: 6"
        ]

    def test_conditional_requirement(self, registry: Registry) -> None:
        """Suno custom mode needs a style and a title."""
        spec = registry.get("suno/v5")
        errors = errors_of(spec, {"customMode": "true", "instrumental": "true"})
        assert errors == [
            "style: required when customMode=true (custom mode)",
            "title: required when customMode=true (custom mode)",
        ]

    def test_one_of_requirement(self, registry: Registry) -> None:
        """Wan 2.7 image-to-video needs a first frame or a clip."""
        spec = registry.get("wan/2-7-image-to-video")
        assert errors_of(spec, {"prompt": "x"}) == [
            "first_frame_url or first_clip_url: give one of them"
        ]

    def test_bad_boolean(self, registry: Registry) -> None:
        """A word that is not yes/no is refused with the allowed values."""
        spec = registry.get("kling-2.6/text-to-video")
        assert errors_of(spec, {"prompt": "x", "sound": "maybe"}) == [
            "sound: 'maybe' is not a yes/no value; allowed: true or false"
        ]


class TestProperties:
    def test_defaults_only_parameters_validate(self, registry: Registry) -> None:
        """For every model, required samples plus defaults form a valid parameter set."""
        for spec in registry:
            params = sample_params(spec)
            assert set(spec.fixed) <= set(params), spec.id

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def test_random_enum_choices_validate_or_fail_cleanly(
        self, registry: Registry, data: st.DataObject
    ) -> None:
        """Any choice of enum and boolean values either validates or raises InvalidParameters."""
        spec = data.draw(st.sampled_from(list(registry)))
        raw: dict[str, Any] = {}
        for inp in spec.inputs:
            if inp.type is InputType.ENUM and inp.values:
                raw[inp.name] = data.draw(st.sampled_from(inp.values))
            elif inp.type is InputType.BOOLEAN:
                raw[inp.name] = data.draw(st.booleans())
        try:
            params = sample_params(spec, raw)
        except InvalidParameters as exc:
            assert exc.errors
            return
        assert all(params[k] == v for k, v in raw.items())
