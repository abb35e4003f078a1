"""`trt registry build` of the whole registry beside `python -c "import typer"` (target ≤ 1 s)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from bench._timing import VENV_BIN, verdict, wall

REGISTRY = Path(__file__).resolve().parents[1] / "registry"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "registry"
        shutil.copytree(REGISTRY / "models", folder / "models")
        count = len(list((folder / "models").rglob("*.toml")))
        # Remove the built file each run so every run loads, validates, renders and writes.
        trt = VENV_BIN / "trt"
        build = f"rm -f {folder}/registry.json && {trt} registry build --registry {folder}"
        baseline = wall([sys.executable, "-c", "import typer"], runs=7)
        build_time = wall(["sh", "-c", build], runs=7)
    print(f"python -c 'import typer' (baseline):   {baseline:.3f} s")
    print(f"trt registry build ({count} sources):    {build_time:.3f} s")
    print(f"ratio: {build_time / baseline:.2f}x  (target ≤ 1 s wall)")
    print(verdict(build_time <= 1.0))


if __name__ == "__main__":
    main()
