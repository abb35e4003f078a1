from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.conftest import MINIMAL, write_source
from trt.catalog.build import BUILT_FILE, build_registry
from trt.catalog.sources import load_sources
from trt.errors import RegistryInvalid


class TestRepositorySources:
    def test_every_source_is_valid(self, repo_root: Path) -> None:
        """The committed sources load without a single problem."""
        specs, problems = load_sources(repo_root / "registry")
        assert problems == []
        assert len(specs) == 126


class TestProblems:
    def test_minimal_source_loads(self, tmp_path: Path) -> None:
        """A source with only the required fields is valid."""
        write_source(tmp_path, "acme/tiny", MINIMAL)
        specs, problems = load_sources(tmp_path)
        assert problems == []
        assert [s.id for s in specs] == ["acme/tiny"]

    def test_broken_toml_names_the_file(self, tmp_path: Path) -> None:
        """A syntax error is reported against its file."""
        write_source(tmp_path, "acme/tiny", "id = ")
        _, problems = load_sources(tmp_path)
        assert len(problems) == 1
        assert problems[0].startswith("models/acme/tiny.toml: -: not valid TOML")

    def test_misspelt_field_is_named(self, tmp_path: Path) -> None:
        """An unknown key (a typo) is reported as file: field: message."""
        write_source(tmp_path, "acme/tiny", MINIMAL.replace("deadline_seconds", "deadline_secs"))
        _, problems = load_sources(tmp_path)
        assert "models/acme/tiny.toml: deadline_seconds: Field required" in problems
        assert "models/acme/tiny.toml: deadline_secs: Extra inputs are not permitted" in problems

    def test_every_problem_in_every_file_is_listed(self, tmp_path: Path) -> None:
        """Problems from several files and several fields are all reported, not the first one."""
        write_source(tmp_path, "acme/tiny", MINIMAL.replace('type = "text"', 'type = "txt"'))
        bad = MINIMAL.replace("acme/tiny", "acme/other").replace("credits = 3", "credits = -1")
        write_source(tmp_path, "acme/other", bad.replace('output = "image"', 'output = "gif"'))
        _, problems = load_sources(tmp_path)
        fields = sorted(p.split(": ")[:2][1] for p in problems)
        assert fields == ["inputs[0].type", "output", "pricing.fixed.credits"]

    def test_id_must_match_the_file_path(self, tmp_path: Path) -> None:
        """A source stored under the wrong name is a problem."""
        write_source(tmp_path, "acme/misplaced", MINIMAL)
        _, problems = load_sources(tmp_path)
        assert problems == [
            "models/acme/misplaced.toml: id: 'acme/tiny' must live in models/acme/tiny.toml"
        ]

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (('[pricing]\nkind = "fixed"\ncredits = 3\n', ""), "pricing: a visible model"),
            (("required = true", 'required = true\ndefault = "x"'), "inputs[0].default"),
            (('type = "text"', 'type = "image"'), "inputs[0].media_types"),
            (("credits = 3", 'credits = 3\nmultiply_by = "n"'), "pricing.multiply_by"),
            (
                ("deadline_seconds = 600", "deadline_seconds = 600\nvisible = false"),
                "hidden_reason",
            ),
            (('api_model = "acme/tiny"', 'api_model = "tiny"'), "api_model"),
        ],
    )
    def test_semantic_problems(self, tmp_path: Path, change: tuple[str, str], expected: str):
        """Rules that span fields are checked and name the offending field."""
        write_source(tmp_path, "acme/tiny", MINIMAL.replace(*change))
        _, problems = load_sources(tmp_path)
        assert any(p.startswith(f"models/acme/tiny.toml: {expected}") for p in problems), problems

    def test_enum_default_must_be_a_value(self, tmp_path: Path) -> None:
        """An enum default outside its values is reported with the allowed values."""
        enum = (
            '\n[[inputs]]\nname = "size"\ntype = "enum"\nvalues = ["1K", "2K"]\ndefault = "3K"\n'
        )
        write_source(tmp_path, "acme/tiny", MINIMAL.replace("[pricing]", enum + "[pricing]"))
        _, problems = load_sources(tmp_path)
        assert problems == [
            "models/acme/tiny.toml: inputs[1].default: '3K' is not allowed; allowed: 1K, 2K"
        ]

    def test_table_rows_must_name_the_keys(self, tmp_path: Path) -> None:
        """A price row keyed on a missing input or an unknown value is a problem."""
        enum = (
            '\n[[inputs]]\nname = "size"\ntype = "enum"\nvalues = ["1K", "2K"]\ndefault = "1K"\n'
        )
        table = (
            '[pricing]\nkind = "table"\nkeys = ["size"]\n'
            '[[pricing.rows]]\nwhen = { size = "1K" }\ncredits = 1\n'
            '[[pricing.rows]]\nwhen = { size = "4K" }\ncredits = 2\n'
            '[[pricing.rows]]\nwhen = { colour = "red" }\ncredits = 3\n'
        )
        text = MINIMAL.split("[pricing]")[0] + enum + table
        write_source(tmp_path, "acme/tiny", text)
        _, problems = load_sources(tmp_path)
        assert [p.split(": ")[1] for p in problems] == [
            "pricing.rows[1].when.size",
            "pricing.rows[2].when",
        ]

    def test_invalid_source_writes_nothing(self, mini_dir: Path) -> None:
        """A build with a broken source raises with every problem and leaves no file behind."""
        write_source(mini_dir, "acme/tiny", "id = ")
        with pytest.raises(RegistryInvalid) as caught:
            build_registry(mini_dir)
        assert caught.value.problems[0].startswith("models/acme/tiny.toml")
        assert not (mini_dir / BUILT_FILE).exists()

    def test_empty_folder_is_a_problem(self, tmp_path: Path) -> None:
        """A registry without sources is reported, not built empty."""
        _, problems = load_sources(tmp_path)
        assert problems == ["models/: -: no model sources (*.toml) found"]
