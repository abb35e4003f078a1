"""`trt serve --sandbox` until the chat page answers (with the bot's webhook set), beside
`python -c "import aiogram"` in the same run: target ≤ import time + 2 s.

The clock stops when the printed URL answers 200: the URL line comes only after the
emulators, the migrated database and `trt serve` (webhook registered) are all up.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench._timing import VENV_BIN, verdict, wall

RUNS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_once(folder: str) -> float:
    """Seconds from spawning `trt serve --sandbox` to its page answering; then Ctrl-C."""
    command = [str(VENV_BIN / "trt"), "serve", "--sandbox", "--port", str(_free_port())]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line[line.index("http://") :].strip()
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGINT)
        if process.wait(timeout=30) != 0:
            raise SystemExit(f"trt serve --sandbox exited with {process.returncode}")
    return elapsed


def main() -> None:
    baseline = wall([sys.executable, "-c", "import aiogram"], runs=RUNS)
    with tempfile.TemporaryDirectory() as folder:
        start_once(folder)  # warm-up: first migration, bytecode caches
        sandbox = statistics.median(start_once(folder) for _ in range(RUNS))
    margin = sandbox - baseline
    print(f"python -c 'import aiogram' (baseline): {baseline:.3f} s")
    print(f"trt serve --sandbox → page answers:    {sandbox:.3f} s")
    print(f"margin over the import: {margin:+.3f} s  (target ≤ +2 s)")
    print(verdict(margin <= 2.0))


if __name__ == "__main__":
    main()
