"""trt.core.submit against FakeKie: validation, uploads, polling and downloads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from trt.catalog.paths import default_registry_dir
from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.core.request import upload_media
from trt.core.schedule import PollSchedule
from trt.core.submit import (
    DownloadFailed,
    TaskTimedOut,
    download_results,
    prepare,
    result_file_name,
    sniff_media_type,
    task_failed,
    wait_for_task,
)
from trt.domain import Family, KieTaskId
from trt.errors import InvalidParameters
from trt.kie.base import CreateTask, TaskRecord
from trt.kie.states import TaskState
from trt.sandbox.kie.fake import FakeKie

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32
PRICING = Pricing(Decimal("0.005"), Decimal("0.013"), Decimal("1.5"))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(default_registry_dir())


@pytest.fixture
def edit(registry: Registry) -> ModelSpec:
    return registry.get("google/nano-banana-edit")


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


class TestPrepare:
    def test_defaults_price_and_stars(self, edit: ModelSpec):
        """Defaults are filled in and the price is given in credits and Stars."""
        plan = prepare(edit, [("prompt", "a hat"), ("image_urls", "https://x/a.png")], [], PRICING)
        assert dict(plan.params) == {
            "prompt": "a hat",
            "image_urls": ["https://x/a.png"],
            "output_format": "png",
            "aspect_ratio": "1:1",
        }
        assert (plan.credits, plan.stars) == (Decimal(4), 3)

    def test_enum_error_names_the_allowed_values(self, registry: Registry):
        """A value outside an enum is refused with the field and its allowed values."""
        veo = registry.get("veo-3.1/fast")
        with pytest.raises(InvalidParameters) as caught:
            prepare(veo, [("prompt", "x"), ("resolution", "8k")], [], PRICING)
        assert caught.value.errors == ["resolution: '8k' is not allowed; allowed: 720p, 1080p, 4k"]

    def test_files_follow_urls_in_a_list_input(self, edit: ModelSpec, tmp_path: Path):
        """Repeated files for a list input keep their order after the URLs given with --set."""
        a, b = write(tmp_path / "a.png", PNG), write(tmp_path / "b.jpg", JPEG)
        sets = [("prompt", "p"), ("image_urls", "https://x/0.png")]
        plan = prepare(edit, sets, [("image_urls", a), ("image_urls", b)], PRICING)
        assert plan.params["image_urls"] == ["https://x/0.png", f"file://{a}", f"file://{b}"]
        assert [(f.key, f.mime) for f in plan.files] == [
            ("image_urls", "image/png"),
            ("image_urls", "image/jpeg"),
        ]

    def test_content_wins_over_extension(self, edit: ModelSpec, tmp_path: Path):
        """A PNG named .jpg is uploaded as image/png."""
        plan = prepare(
            edit, [("prompt", "p")], [("image_urls", write(tmp_path / "x.jpg", PNG))], PRICING
        )
        assert plan.files[0].mime == "image/png"

    def test_wrong_type_is_refused(self, edit: ModelSpec, tmp_path: Path):
        """A file of a type the input does not accept is refused with the allowed types."""
        text = write(tmp_path / "notes.txt", b"hello")
        with pytest.raises(InvalidParameters) as caught:
            prepare(edit, [("prompt", "p")], [("image_urls", text)], PRICING)
        assert caught.value.errors == [
            "image_urls: notes.txt is text/plain; allowed: image/jpeg, image/png, image/webp"
        ]

    def test_too_large_is_refused_before_reading(self, edit: ModelSpec, tmp_path: Path):
        """A file over the input's max_bytes is refused from its size alone."""
        big = tmp_path / "big.png"
        with big.open("wb") as out:
            out.truncate(10 * 1024 * 1024 + 1)
        with pytest.raises(InvalidParameters) as caught:
            prepare(edit, [("prompt", "p")], [("image_urls", big)], PRICING)
        assert caught.value.errors == ["image_urls: big.png is 10.0 MB; at most 10.0 MB"]

    def test_file_for_a_non_media_input(self, edit: ModelSpec, tmp_path: Path):
        """--file on a non-media input names the inputs that take files."""
        with pytest.raises(
            InvalidParameters, match="prompt: not a file input; file inputs: image_urls"
        ):
            prepare(edit, [], [("prompt", write(tmp_path / "a.png", PNG))], PRICING)

    def test_missing_file(self, edit: ModelSpec, tmp_path: Path):
        """A path that does not exist is named with the input."""
        with pytest.raises(InvalidParameters, match="image_urls: cannot read .*nope.png"):
            prepare(edit, [("prompt", "p")], [("image_urls", tmp_path / "nope.png")], PRICING)

    def test_a_path_in_set_asks_for_file(self, edit: ModelSpec):
        """A local path given with --set for a media input points to --file."""
        with pytest.raises(
            InvalidParameters,
            match="'cat.png' is not a URL; upload a file with --file image_urls=PATH",
        ):
            prepare(edit, [("prompt", "p"), ("image_urls", "cat.png")], [], PRICING)


class TestSniff:
    @pytest.mark.parametrize(
        ("head", "mime"),
        [
            (PNG, "image/png"),
            (JPEG, "image/jpeg"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
            (b"RIFF\0\0\0\0WAVEfmt ", "audio/wav"),
            (b"ID3\x04", "audio/mpeg"),
            (b"\xff\xfb\x90\x00", "audio/mpeg"),
            (b"\xff\xf1\x50\x80", "audio/aac"),
            (b"OggS\0", "audio/ogg"),
            (b"\0\0\0\x18ftypisom", "video/mp4"),
            (b"\0\0\0\x14ftypqt  ", "video/quicktime"),
            (b"\0\0\0\x20ftypM4A ", "audio/mp4"),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", "video/x-matroska"),
            (b"hello", None),
        ],
    )
    def test_signatures(self, head: bytes, mime: str | None):
        """The first bytes of the file types KIE accepts give their MIME type."""
        assert sniff_media_type(head) == mime


class TestUploads:
    async def test_urls_replace_placeholders(self, edit: ModelSpec, tmp_path: Path):
        """Each file is uploaded once under a content-addressed name and its URL substituted."""
        a = write(tmp_path / "my cat.png", PNG)
        plan = prepare(edit, [("prompt", "p")], [("image_urls", a), ("image_urls", a)], PRICING)
        kie = FakeKie()
        params = await upload_media(kie, edit, plan.params, plan.media)
        assert [(u.name, u.mime, u.content) for u in kie.uploads] == [
            ("629f4275ec77-my_cat.png", "image/png", PNG)
        ]
        url = kie.uploads[0].url
        assert params["image_urls"] == [url, url]
        assert params["prompt"] == "p"

    async def test_urls_given_with_set_stay_first(self, edit: ModelSpec, tmp_path: Path):
        """URLs given with --set keep their place before the uploaded files' URLs."""
        a = write(tmp_path / "a.png", PNG)
        sets = [("prompt", "p"), ("image_urls", "https://x/0.png")]
        plan = prepare(edit, sets, [("image_urls", a)], PRICING)
        kie = FakeKie()
        params = await upload_media(kie, edit, plan.params, plan.media)
        assert params["image_urls"] == ["https://x/0.png", kie.uploads[0].url]


class TestWaitForTask:
    async def test_follows_kie_polling_guidance(self):
        """Pauses are 2 s for 30 s, 5 s until 2 min, then 15 s, cut short at the deadline."""
        kie, time = FakeKie(), FakeTime()
        kie.script(TaskState.GENERATING)
        task_id = await kie.create_task(CreateTask(Family.MARKET, "m", {}))
        with pytest.raises(TaskTimedOut) as caught:
            await wait_for_task(
                kie, Family.MARKET, task_id, max_wait=200, sleep=time.sleep, clock=time.clock
            )
        assert time.pauses == [2.0] * 15 + [5.0] * 18 + [15.0] * 5 + [5.0]
        assert len(kie.queries) == len(time.pauses)
        assert caught.value.task_id == task_id
        assert caught.value.record is not None
        assert caught.value.record.state is TaskState.GENERATING
        assert task_id in str(caught.value)

    async def test_returns_the_final_record_and_reports_progress(self):
        """Every record is reported with the elapsed time; the final one is returned."""
        kie, time = FakeKie(), FakeTime()
        kie.script(TaskState.QUEUING, TaskState.GENERATING, TaskState.SUCCESS)
        task_id = await kie.create_task(CreateTask(Family.VEO, "veo3_fast", {}))
        seen: list[tuple[TaskState, float]] = []
        record = await wait_for_task(
            kie,
            Family.VEO,
            task_id,
            max_wait=60,
            schedule=PollSchedule.every(1),
            sleep=time.sleep,
            clock=time.clock,
            on_update=lambda r, t: seen.append((r.state, t)),
        )
        assert record.state is TaskState.SUCCESS
        assert record.result_urls == kie.result_urls(task_id)
        assert seen == [
            (TaskState.QUEUING, 1.0),
            (TaskState.GENERATING, 2.0),
            (TaskState.SUCCESS, 3.0),
        ]


class TestTaskFailed:
    def test_numeric_code(self):
        """A failed task becomes KieGenerationFailed with KIE's code, message and the task id."""
        record = TaskRecord(
            KieTaskId("t1"),
            Family.MARKET,
            TaskState.FAIL,
            fail_code="422",
            fail_message="bad prompt",
        )
        error = task_failed(record)
        assert error.exit_code == 18
        assert str(error) == "KIE failed to generate the result (KIE 422: task t1: bad prompt)"

    def test_word_code(self):
        """A code that is a word (Suno) is kept in the message."""
        record = TaskRecord(
            KieTaskId("t2"), Family.SUNO, TaskState.FAIL, fail_code="SENSITIVE_WORD_ERROR"
        )
        assert str(task_failed(record)) == (
            "KIE failed to generate the result "
            "(KIE 501: task t2: no reason given [SENSITIVE_WORD_ERROR])"
        )


class TestDownload:
    async def test_never_overwrites(self, tmp_path: Path):
        """A name already taken gets a numbered suffix; the old file is untouched."""
        (tmp_path / "0.png").write_bytes(b"old")

        async def fetch(url: str) -> bytes:
            return url.encode()

        urls = ["https://f.test/a/0.png", "https://f.test/b/0.png", "https://f.test/"]
        saved = await download_results(urls, tmp_path / ".", fetch)
        assert [p.name for p in saved] == ["0-1.png", "0-2.png", "result-2"]
        assert (tmp_path / "0.png").read_bytes() == b"old"
        assert saved[1].read_bytes() == b"https://f.test/b/0.png"

    def test_names_are_made_safe(self):
        """URL-encoded and hidden names become plain file names."""
        assert result_file_name("https://f.test/x/my%20song.mp3?sig=1", 0) == "my_song.mp3"
        assert result_file_name("https://f.test/..%2F..%2Fetc", 3) == "_.._etc"

    async def test_folder_that_is_a_file(self, tmp_path: Path):
        """A download folder that cannot be made is a DownloadFailed error."""

        async def fetch(url: str) -> bytes:
            raise AssertionError("not reached")

        (tmp_path / "f").write_bytes(b"")
        with pytest.raises(DownloadFailed):
            await download_results(["https://f.test/0.png"], tmp_path / "f", fetch)
