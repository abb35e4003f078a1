"""Helpers the benchmark scripts share: wall time of a command, median of runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def wall(command: Sequence[str], *, runs: int = 7, env: dict[str, str] | None = None) -> float:
    """Median wall-clock seconds of `command`, after one warm-up run; fails if it fails."""
    subprocess.run(command, check=True, capture_output=True, env=env)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
