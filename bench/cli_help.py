"""`trt --help` wall time beside `python -c "import typer"` (target ≤ 0.35 s and ≤ 2.5×)."""

from __future__ import annotations

import sys

from bench._timing import VENV_BIN, verdict, wall


def main() -> None:
    baseline = wall([sys.executable, "-c", "import typer"], runs=11)
    help_time = wall([str(VENV_BIN / "trt"), "--help"], runs=11)
    ratio = help_time / baseline
    print(f"python -c 'import typer' (baseline): {baseline:.3f} s")
    print(f"trt --help:                          {help_time:.3f} s")
    print(f"ratio: {ratio:.2f}x  (target ≤ 0.35 s and ≤ 2.5x)")
    print(verdict(help_time <= 0.35 and ratio <= 2.5))


if __name__ == "__main__":
    main()
