"""trt.core.request: the uploads and the creation request `trt submit` and the pipeline share."""

from __future__ import annotations

from decimal import Decimal

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from trt.catalog.paths import default_registry_dir
from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.catalog.spec import ModelSpec
from trt.core.request import PLACEHOLDER_CALLBACK_URL, MediaFile, build_request, upload_media
from trt.core.submit import prepare
from trt.domain import Family
from trt.errors import UsageError
from trt.kie import wire
from trt.kie.base import CreateTask
from trt.sandbox.kie.fake import FakeKie

PRICING = Pricing(Decimal("0.005"), Decimal("0.013"), Decimal("1.5"))
CAT = MediaFile("cat.png", b"\x89PNG cat", "image/png")
DOG = MediaFile("dog.png", b"\x89PNG dog", "image/png")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(default_registry_dir())


@pytest.fixture
def edit(registry: Registry) -> ModelSpec:
    return registry.get("google/nano-banana-edit")


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


class TestUploadMedia:
    async def test_list_input_gets_every_url_in_order(self, edit: ModelSpec):
        """A list input's placeholders give way to its files' URLs, in the files' order."""
        kie = FakeKie()
        params = {"prompt": "p", "image_urls": ["tg:1", "tg:2"]}
        uploaded = await upload_media(kie, edit, params, {"image_urls": [CAT, DOG]})
        assert [(u.name, u.content, u.mime) for u in kie.uploads] == [
            ("cat.png", CAT.content, "image/png"),
            ("dog.png", DOG.content, "image/png"),
        ]
        assert uploaded == {"prompt": "p", "image_urls": [u.url for u in kie.uploads]}
        assert params["image_urls"] == ["tg:1", "tg:2"]

    async def test_single_input_gets_one_url(self, registry: Registry):
        """A single-file input holds the uploaded file's URL, not a list."""
        spec = registry.get("hailuo/02-image-to-video-pro")
        kie = FakeKie()
        uploaded = await upload_media(kie, spec, {"image_url": "tg:1"}, {"image_url": [CAT]})
        assert uploaded == {"image_url": kie.uploads[0].url}

    async def test_the_same_file_is_uploaded_once(self, edit: ModelSpec):
        """A file given twice is uploaded once and its URL used twice."""
        kie, seen = FakeKie(), list[MediaFile]()
        uploaded = await upload_media(
            kie, edit, {"image_urls": []}, {"image_urls": [CAT, CAT]}, on_upload=seen.append
        )
        assert len(kie.uploads) == 1
        assert uploaded["image_urls"] == [kie.uploads[0].url] * 2
        assert seen == [CAT]

    async def test_inputs_without_files_are_untouched(self, edit: ModelSpec):
        """With no files nothing is uploaded and the parameters come back as they were."""
        kie = FakeKie()
        params = {"prompt": "p", "image_urls": ["https://x/a.png"]}
        assert await upload_media(kie, edit, params, {}) == params
        assert kie.uploads == []


class TestBuildRequest:
    @pytest.mark.parametrize(
        ("model", "sets"),
        [
            ("google/nano-banana-edit", [("prompt", "a hat"), ("image_urls", "https://x/a.png")]),
            ("veo-3.1/fast", [("prompt", "a dog"), ("seeds", "12345"), ("duration", "6")]),
            ("suno/v4-5", [("prompt", "a song"), ("styleWeight", "0.5")]),
        ],
        ids=["market", "veo", "suno"],
    )
    async def test_payload(self, registry, model, sets, json_snapshot):
        """Each family's request reaches KIE in its own body shape, with typed values."""
        spec = registry.get(model)
        kie = FakeKie()
        plan = prepare(spec, sets, [], PRICING)
        await kie.create_task(build_request(spec, plan.params))
        (request,) = kie.submitted
        assert {
            "path": wire.CREATE_PATH[request.family],
            "body": wire.create_body(request),
        } == json_snapshot

    def test_suno_gets_the_placeholder_callback(self, registry: Registry):
        """Suno, which refuses a request without callBackUrl, gets the placeholder."""
        request = build_request(registry.get("suno/v4-5"), {"prompt": "x"})
        assert request.callback_url == PLACEHOLDER_CALLBACK_URL

    def test_given_callback_is_kept(self, edit: ModelSpec):
        """A configured callback URL is used as given; Market gets none otherwise."""
        url = "https://bot.example.com/callbacks/kie/t"
        assert build_request(edit, {}, url).callback_url == url
        assert build_request(edit, {}) == CreateTask(Family.MARKET, edit.api_model, {}, None)

    def test_none_values_are_left_out(self, edit: ModelSpec):
        """A parameter whose value is None is not sent at all."""
        request = build_request(edit, {"prompt": "p", "seed": None})
        assert request.input == {"prompt": "p"}

    def test_a_family_kie_cannot_take_is_a_usage_error(self, edit: ModelSpec):
        """A model on an API trt does not speak yet is refused before anything is sent."""
        runway = edit.model_copy(update={"family": Family.RUNWAY})
        with pytest.raises(UsageError, match="runway API, which trt cannot submit to yet"):
            build_request(runway, {})


def test_two_files_of_one_name_get_two_upload_names() -> None:
    """KIE keeps uploads in one folder and overwrites a file of the same name: two users'
    `photo.jpg` must never meet there, and an unsafe name is made safe."""
    first = MediaFile.addressed("photo.jpg", b"one", "image/jpeg")
    second = MediaFile.addressed("photo.jpg", b"two", "image/jpeg")
    assert first.name != second.name
    assert first.name.endswith("-photo.jpg")
    assert MediaFile.addressed("a b/c.jpg", b"x", "image/jpeg").name.endswith("-a_b_c.jpg")
