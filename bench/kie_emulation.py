"""Start `trt kie emulate` in its own process for the KIE benchmarks."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """Run the emulator (rate limit off) in a child process; yield its base URL."""
    command = [sys.executable, "-c", "from trt.cli import main; main()", "kie", "emulate",
               "--port", "0", "--rate-limit", "0", "--credits", "1000000000", *args]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.split()[4]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
