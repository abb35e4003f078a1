"""The registry's vocabularies as plain enums, importable without pydantic (the CLI's option
types use them, and `trt --help` must stay fast)."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    IMAGE_EDIT = "image-edit"
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"
    REFERENCE_TO_VIDEO = "reference-to-video"
    VIDEO_TO_VIDEO = "video-to-video"
    UPSCALE = "upscale"
    BACKGROUND_REMOVAL = "background-removal"
    TEXT_TO_SPEECH = "text-to-speech"
    AUDIO = "audio"
    MUSIC = "music"
    AVATAR = "avatar"


class OutputKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"


class InputType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    IMAGES = "images"
    VIDEO = "video"
    VIDEOS = "videos"
    AUDIO = "audio"
    AUDIOS = "audios"
    ENUM = "enum"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


MEDIA_TYPES = frozenset(
    {
        InputType.IMAGE,
        InputType.IMAGES,
        InputType.VIDEO,
        InputType.VIDEOS,
        InputType.AUDIO,
        InputType.AUDIOS,
    }
)
LIST_TYPES = frozenset({InputType.IMAGES, InputType.VIDEOS, InputType.AUDIOS})
