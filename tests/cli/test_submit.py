"""`trt submit` end to end against the KIE emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.cli.conftest import served_in_thread
from tests.conftest import CliInvoke
from trt.core.schedule import PollSchedule
from trt.sandbox.kie.emulation import Schedule
from trt.sandbox.kie.emulator import Emulator, Fault, TaskPlan, run_emulator
from trt.sandbox.kie.media import sample

FAST = ("--emulator", "--emulator-duration", "0.05")
KEY = "sk-submit-secret"


def submit_json(trt: CliInvoke, *args: str, code: int = 0, env: Any = None) -> dict[str, Any]:
    result = trt("submit", *args, "--json", env=env)
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def scrub(text: str) -> str:
    """Replace task ids and the emulator's port, which differ on every run."""
    text = re.sub(r"(veo_task_|task_)?[0-9a-f]{32}", "<TASK>", text)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<PORT>", text)


@pytest.fixture
def kie(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A quick emulator in its own thread, reached in real mode through KIE_BASE_URL."""
    monkeypatch.setattr("trt.core.submit.KIE_POLLING", PollSchedule.every(0.01))
    schedule = Schedule(0.01, 0.02, 0.05)
    with served_in_thread(lambda: run_emulator(api_key=KEY, schedule=schedule)) as emu:
        yield emu


def real_env(emu: Emulator) -> dict[str, str]:
    return {"KIE_API_KEY": KEY, "KIE_BASE_URL": emu.base_url, "KIE_UPLOAD_BASE_URL": emu.base_url}


class TestFamilies:
    def test_market_with_image_upload_and_enum(self, trt: CliInvoke, tmp_path: Path):
        """A Market model gets its text, its uploaded image's URL and its enum value."""
        (tmp_path / "cat.png").write_bytes(sample("png"))
        data = submit_json(
            trt,
            "google/nano-banana-edit",
            "--set",
            "prompt=a hat",
            "--set",
            "output_format=jpeg",
            "--file",
            "image_urls=cat.png",
            *FAST,
        )
        (uploaded,) = data["params"].pop("image_urls")
        assert re.fullmatch(
            r"http://127\.0\.0\.1:\d+/files/uploads/trt/inputs/\w{12}-cat\.png", uploaded
        )
        assert data["params"] == {
            "prompt": "a hat",
            "output_format": "jpeg",
            "aspect_ratio": "1:1",
        }
        assert (data["credits"], data["stars"], data["state"]) == ("4", 3, "success")
        assert [u.rsplit("/", 1)[1] for u in data["result_urls"]] == ["0.jpg"]

    def test_veo_with_enum_integer_and_boolean(self, trt: CliInvoke):
        """A Veo model gets typed enum, integer and boolean values and ends with a video."""
        data = submit_json(
            trt,
            "veo-3.1/fast",
            "--set",
            "prompt=a dog",
            "--set",
            "duration=6",
            "--set",
            "seeds=12345",
            "--set",
            "enableTranslation=no",
            "--set",
            "resolution=1080p",
            *FAST,
        )
        assert data["params"] == {
            "prompt": "a dog",
            "aspectRatio": "16:9",
            "resolution": "1080p",
            "duration": 6,
            "seeds": 12345,
            "enableTranslation": False,
        }
        assert (data["credits"], data["stars"], data["state"]) == ("65", 38, "success")
        assert data["task_id"].startswith("veo_task_")
        assert data["result_urls"][0].endswith("/0.mp4")

    def test_suno_with_number_and_boolean(self, trt: CliInvoke):
        """A Suno model gets a number and booleans and returns its two tracks."""
        data = submit_json(
            trt,
            "suno/v4-5",
            "--set",
            "prompt=a song",
            "--set",
            "styleWeight=0.25",
            "--set",
            "instrumental=true",
            *FAST,
        )
        assert data["params"] == {
            "prompt": "a song",
            "customMode": False,
            "instrumental": True,
            "styleWeight": 0.25,
        }
        assert data["state"] == "success"
        assert [u.rsplit("/", 1)[1] for u in data["result_urls"]] == ["0.mp3", "1.mp3"]
        assert (data["files"], data["fail_code"], data["fail_message"]) == ([], None, None)


class TestOutput:
    def test_human_output(self, trt: CliInvoke, snapshot: SnapshotAssertion):
        """The model, its price, the task, its final state and results, one per line."""
        result = trt(
            "submit",
            "google/nano-banana-edit",
            "--set",
            "prompt=p",
            "--set",
            "image_urls=https://example.com/a.png",
            *FAST,
        )
        assert result.exit_code == 0, result.output
        assert scrub(result.stdout) == snapshot
        assert scrub(result.stderr) == "submitted task <TASK>\n"

    def test_download_never_overwrites(self, trt: CliInvoke, tmp_path: Path):
        """--download saves each result; a second run does not replace the first's files."""
        args = ("suno/v4-5", "--set", "prompt=a song", "--download", "out", *FAST)
        first = submit_json(trt, *args)
        second = submit_json(trt, *args)
        assert first["files"] == ["out/0.mp3", "out/1.mp3"]
        assert second["files"] == ["out/0-1.mp3", "out/1-1.mp3"]
        assert (tmp_path / "out" / "0-1.mp3").read_bytes()[:2] in (b"ID", b"\xff\xfb")

    def test_no_wait_prints_the_task_id(self, trt: CliInvoke):
        """--no-wait exits 0 right after submission with the task id."""
        data = submit_json(trt, "suno/v4-5", "--set", "prompt=x", "--no-wait", *FAST)
        assert data["state"] == "submitted"
        assert re.fullmatch(r"[0-9a-f]{32}", data["task_id"])

    def test_emulator_mode_setting(self, trt: CliInvoke):
        """KIE_MODE=emulator needs no --emulator and no key."""
        data = submit_json(
            trt,
            "suno/v4-5",
            "--set",
            "prompt=x",
            "--emulator-duration",
            "0.05",
            env={"KIE_MODE": "emulator"},
        )
        assert data["state"] == "success"


class TestBadInput:
    def test_unknown_model_suggests(self, trt: CliInvoke):
        """An unknown model exits 3 and suggests the closest ids."""
        result = trt("submit", "google/nano-banana-edt", *FAST)
        assert result.exit_code == 3
        assert result.stderr == (
            "error: unknown model: google/nano-banana-edt (did you mean: "
            "google/nano-banana-edit, google/nano-banana, nano-banana-2?)\n"
        )

    def test_out_of_range_and_enum(self, trt: CliInvoke):
        """Every bad value is named with its allowed values, and nothing is sent."""
        result = trt(
            "submit",
            "veo-3.1/fast",
            "--set",
            "prompt=x",
            "--set",
            "resolution=8k",
            "--set",
            "seeds=5",
            *FAST,
        )
        assert result.exit_code == 2
        assert result.stderr == (
            "error: invalid parameters:\n"
            "  resolution: '8k' is not allowed; allowed: 720p, 1080p, 4k\n"
            "  seeds: 5 is out of range; allowed: a whole number from 10000 to 99999\n"
        )
        assert result.stdout == ""

    @pytest.mark.parametrize(
        ("name", "size", "refusal"),
        [
            ("notes.txt", 5, "image_urls: notes.txt is text/plain; allowed: image/jpeg"),
            ("big.png", 11 * 1024 * 1024, "image_urls: big.png is 11.0 MB; at most 10.0 MB"),
        ],
        ids=["wrong type", "too large"],
    )
    def test_a_refused_file_is_not_uploaded(
        self, *, trt: CliInvoke, kie: Emulator, tmp_path: Path, name: str, size: int, refusal: str
    ) -> None:
        """A file of the wrong type, or over the input's limit, is refused before anything
        reaches KIE."""
        with (tmp_path / name).open("wb") as out:
            out.truncate(size)
        result = trt(
            "submit", "google/nano-banana-edit", "--set", "prompt=p",
            "--file", f"image_urls={name}", env=real_env(kie),
        )  # fmt: skip
        assert result.exit_code == 2
        assert refusal in result.stderr
        assert kie.requests == []

    def test_download_needs_wait(self, trt: CliInvoke):
        """--download with --no-wait is a usage error."""
        result = trt("submit", "suno/v4-5", "--no-wait", "--download", "out", *FAST)
        assert result.exit_code == 2
        assert "--download: needs --wait" in result.stderr

    def test_missing_key_is_a_config_error(self, trt: CliInvoke):
        """Without --emulator a missing KIE_API_KEY is named and nothing is sent."""
        result = trt("submit", "suno/v4-5", "--set", "prompt=x")
        assert result.exit_code == 78
        assert "KIE_API_KEY is required" in result.stderr


class TestKieOutcomes:
    def test_out_of_credits_is_one_line(self, trt: CliInvoke, kie: Emulator):
        """A 402 on creation prints its meaning on one line and exits 12."""
        kie.inject("create", Fault(code=402, message="Credits insufficient"))
        result = trt("submit", "suno/v4-5", "--set", "prompt=x", env=real_env(kie))
        assert result.exit_code == 12
        assert result.stderr == (
            "error: the KIE account is out of credits (KIE 402: Credits insufficient)\n"
        )

    def test_real_mode_uses_the_configured_kie(self, trt: CliInvoke, kie: Emulator):
        """With a key, uploads, creation and polling go to KIE_BASE_URL."""
        data = submit_json(trt, "suno/v4-5", "--set", "prompt=x", env=real_env(kie))
        assert data["state"] == "success"
        assert ("POST", "/api/v1/generate") in kie.requests
        assert ("GET", "/api/v1/generate/record-info") in kie.requests

    def test_record_is_null_right_after_creation_is_not_ready(self, trt: CliInvoke, kie: Emulator):
        """KIE answers "recordInfo is null" for a task it created a moment ago: --wait keeps
        waiting through a grace period instead of exiting 14 ("KIE does not know it")."""
        kie.inject("record", Fault(code=422, message="recordInfo is null"), times=2)
        data = submit_json(trt, "suno/v4-5", "--set", "prompt=x", env=real_env(kie))
        assert data["state"] == "success"

    def test_failed_task(self, trt: CliInvoke, kie: Emulator):
        """A task that fails exits 18 with KIE's reason; --json still reports it."""
        kie.plan(TaskPlan(outcome="fail", fail_code="422", fail_message="bad prompt"))
        result = trt("submit", "suno/v4-5", "--set", "prompt=x", "--json", env=real_env(kie))
        assert result.exit_code == 18
        data = json.loads(result.stdout)
        assert (data["state"], data["fail_code"], data["fail_message"]) == (
            "fail",
            "422",
            "bad prompt",
        )
        assert f"(KIE 422: task {data['task_id']}: bad prompt)" in result.stderr

    def test_timeout_names_the_task(self, trt: CliInvoke):
        """A task still running at --timeout exits 124 naming its id and last state."""
        result = trt(
            "submit",
            "suno/v4-5",
            "--set",
            "prompt=x",
            "--json",
            "--timeout",
            "0.05",
            "--emulator",
            "--emulator-duration",
            "60",
        )
        assert result.exit_code == 124
        data = json.loads(result.stdout)
        assert data["state"] in ("waiting", "queuing", "generating")
        assert f"task {data['task_id']} did not finish within 0.05 s" in result.stderr
