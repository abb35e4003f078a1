"""`trt kie credits` and `trt kie emulate`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.cli.conftest import served_in_thread
from tests.conftest import CliInvoke
from trt.sandbox.kie.emulator import Emulator, Fault, run_emulator

KEY = "sk-live-very-secret"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """An emulator on 127.0.0.1 in its own thread and loop, since the CLI runs asyncio.run."""
    with served_in_thread(lambda: run_emulator(api_key=KEY)) as emu:
        yield emu


def real_env(emu: Emulator) -> dict[str, str]:
    return {"KIE_API_KEY": KEY, "KIE_BASE_URL": emu.base_url, "KIE_UPLOAD_BASE_URL": emu.base_url}


class TestCredits:
    def test_in_process_emulator(self, trt: CliInvoke):
        """--emulator asks a throwaway emulator and needs no key."""
        result = trt("kie", "credits", "--emulator")
        assert result.exit_code == 0, result.output
        assert result.stdout == "credits  10000\nsource   emulator\n"

    def test_json(self, trt: CliInvoke):
        """--json prints one JSON document."""
        result = trt("kie", "credits", "--emulator", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"credits": 10000, "source": "emulator"}

    def test_emulator_mode_setting(self, trt: CliInvoke):
        """KIE_MODE=emulator also uses the emulator."""
        result = trt("kie", "credits", env={"KIE_MODE": "emulator"})
        assert result.exit_code == 0, result.output
        assert "emulator" in result.stdout

    def test_missing_key_is_a_config_error(self, trt: CliInvoke):
        """Without KIE_API_KEY the command names the variable and exits 78."""
        result = trt("kie", "credits")
        assert result.exit_code == 78
        assert "KIE_API_KEY is required" in result.stderr

    def test_real_mode_asks_the_configured_url(self, trt: CliInvoke, emulator: Emulator):
        """In real mode the key and KIE_BASE_URL are used."""
        emulator.credits -= 58
        result = trt("kie", "credits", "--json", env=real_env(emulator))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"credits": 9942, "source": emulator.base_url}
        assert ("GET", "/api/v1/chat/credit") in emulator.requests

    def test_out_of_credits_is_one_line_and_exit_12(self, trt: CliInvoke, emulator: Emulator):
        """A 402 prints its meaning on one line and exits with the class's code."""
        emulator.inject("credits", Fault(code=402, message="Credits insufficient"))
        result = trt("kie", "credits", env=real_env(emulator))
        assert result.exit_code == 12
        assert result.stderr == (
            "error: the KIE account is out of credits (KIE 402: Credits insufficient)\n"
        )

    def test_wrong_key_is_never_printed(self, trt: CliInvoke, emulator: Emulator):
        """A rejected key exits 11 and the key appears nowhere in the output."""
        result = trt("kie", "credits", env={**real_env(emulator), "KIE_API_KEY": "sk-wrong-zzz"})
        assert result.exit_code == 11
        assert "KIE rejected the API key" in result.stderr
        assert "sk-wrong-zzz" not in result.output

    def test_unreachable_kie_is_a_network_error(
        self, trt: CliInvoke, monkeypatch: pytest.MonkeyPatch
    ):
        """A closed port gives the network error's exit code after the read retries."""
        pauses: list[float] = []

        async def no_wait(delay: float) -> None:
            pauses.append(delay)

        monkeypatch.setattr("trt.kie.client.backoff_sleep", no_wait)
        env = {"KIE_API_KEY": KEY, "KIE_BASE_URL": "http://127.0.0.1:9"}
        result = trt("kie", "credits", env=env)
        assert result.exit_code == 21
        assert len(pauses) == 3
        assert "KIE is unreachable: could not connect" in result.stderr


class TestEmulate:
    def test_runs_until_interrupted(self):
        """`trt kie emulate --port 0` prints its URL, serves KIE calls and stops on Ctrl-C."""
        env = {**os.environ, "KIE_WEBHOOK_HMAC_KEY": "k"}
        code = "from trt.cli import main; main()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, "kie", "emulate", "--port", "0", "--rate-limit", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("KIE emulator listening on http://127.0.0.1:")
            url = line.split()[4]
            answer = httpx.get(f"{url}/api/v1/chat/credit", headers={"Authorization": "Bearer x"})
            assert answer.json() == {"code": 200, "msg": "success", "data": 10000}
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr
        assert "emulator stopped" in stderr

    def test_fault_flags_reach_the_emulator(self):
        """`--fail-requests 1` makes every API call an HTTP 500."""
        code = "from trt.cli import main; main()"
        args = ["kie", "emulate", "--port", "0", "--fail-requests", "1", "--fail-mode", "5xx"]
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split()[4]
            answer = httpx.get(f"{url}/api/v1/chat/credit", headers={"Authorization": "Bearer x"})
            assert answer.status_code == 500
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr

    def test_a_bad_fault_flag_names_the_allowed_values(self, trt):
        """An unknown --fail-mode is a usage error listing 5xx and timeout."""
        result = trt("kie", "emulate", "--fail-mode", "slow")
        assert result.exit_code == 2
        assert "5xx" in result.output and "timeout" in result.output

    def test_overcharge_reaches_the_emulator(self):
        """`--overcharge google/nano-banana=3` bills 3 × its 4-credit quote per task."""
        code = "from trt.cli import main; main()"
        args = ["kie", "emulate", "--port", "0", "--overcharge", "google/nano-banana=3"]
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split()[4]
            auth = {"Authorization": "Bearer x"}
            task = {"model": "google/nano-banana", "input": {"prompt": "x"}}
            httpx.post(f"{url}/api/v1/jobs/createTask", headers=auth, json=task)
            answer = httpx.get(f"{url}/api/v1/chat/credit", headers=auth)
            assert answer.json()["data"] == 10_000 - 12
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr

    def test_a_bad_overcharge_names_the_form(self, trt):
        """--overcharge without MODEL=FACTOR is a usage error showing the expected form."""
        result = trt("kie", "emulate", "--overcharge", "google/nano-banana")
        assert result.exit_code == 2
        assert "expected MODEL=FACTOR" in result.output
