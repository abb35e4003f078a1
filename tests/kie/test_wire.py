"""trt.kie.wire: the endpoints of the families the adapter says it speaks."""

from __future__ import annotations

from trt.domain import Family
from trt.kie import wire
from trt.kie.base import FAMILIES


class TestFamilies:
    def test_every_family_trt_calls_has_its_endpoints(self):
        """Each family in FAMILIES has a creation and a record endpoint, and no other does."""
        assert set(wire.CREATE_PATH) == set(wire.RECORD_PATH) == FAMILIES

    def test_the_registry_may_name_families_trt_cannot_call_yet(self):
        """FAMILIES is a part of the one Family vocabulary the registry validates against."""
        assert FAMILIES.issubset(Family)
        not_yet = set(Family) - FAMILIES
        assert not_yet == {Family.RUNWAY, Family.GPT4O_IMAGE, Family.FLUX_KONTEXT}
