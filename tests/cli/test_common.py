"""trt.cli.common: the option parsers command groups share."""

from __future__ import annotations

import pytest

from trt.cli.common import split_assignments
from trt.errors import UsageError


class TestSplitAssignments:
    def test_pairs(self):
        """KEY=VALUE splits at the first '=' and keeps the rest of the value."""
        assert split_assignments("--set", ["a=1", "b=x=y", "c="]) == [
            ("a", "1"),
            ("b", "x=y"),
            ("c", ""),
        ]

    def test_missing_equals_names_the_option(self):
        """An item without '=' is a usage error naming the option."""
        with pytest.raises(UsageError, match=r"^--file: 'cat.png' is not KEY=VALUE$"):
            split_assignments("--file", ["cat.png"])
