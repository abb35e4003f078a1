"""The runtime registry: the built `registry.json`, looked up by model id."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from pathlib import Path

from trt.catalog.build import BUILT_FILE, parse_built
from trt.catalog.kinds import Category
from trt.catalog.spec import ModelSpec
from trt.errors import ModelNotFound, RegistryInvalid


class Registry:
    """Model specs by id; read-only."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs: dict[str, ModelSpec] = {s.id: s for s in sorted(specs, key=lambda s: s.id)}
        self._visible = [s for s in self._specs.values() if s.visible]

    @classmethod
    def load(cls, registry_dir: Path) -> Registry:
        """The registry built in `registry_dir`. Raises: RegistryInvalid if missing or damaged."""
        path = registry_dir / BUILT_FILE
        if not path.is_file():
            raise RegistryInvalid([f"{path}: -: missing; run `trt registry build`"])
        return cls(parse_built(path.read_bytes(), str(path)))

    def get(self, model_id: str) -> ModelSpec:
        """The spec of `model_id`. Raises: ModelNotFound with the closest ids."""
        spec = self._specs.get(model_id)
        if spec is None:
            raise ModelNotFound(model_id, self.suggest(model_id))
        return spec

    def suggest(self, model_id: str, limit: int = 3) -> list[str]:
        """The ids closest to a mistyped one (difflib), or ids containing it."""
        ids = list(self._specs)
        close = difflib.get_close_matches(model_id, ids, n=limit, cutoff=0.5)
        if close:
            return close
        needle = model_id.lower()
        return [i for i in ids if needle and needle in i][:limit]

    def visible(self) -> list[ModelSpec]:
        """Models shown to users, sorted by id."""
        return list(self._visible)

    def by_category(self, *, include_hidden: bool = False) -> dict[Category, list[ModelSpec]]:
        """Models grouped by category, categories in declaration order."""
        groups: dict[Category, list[ModelSpec]] = {}
        for category in Category:
            members = [
                s
                for s in self._specs.values()
                if s.category is category and (include_hidden or s.visible)
            ]
            if members:
                groups[category] = members
        return groups

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._specs
