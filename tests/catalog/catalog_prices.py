"""Prices stated in CATALOG.md / API.md, written out by hand: (model, parameters, credits).

Independent of the registry sources, so a typo in a source fails a test. Parameters not
listed take the model's sample values (required inputs) and defaults.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Case = tuple[str, dict[str, Any], str]


def _each(model: str, key: str, prices: dict[Any, str]) -> list[Case]:
    return [(model, {key: value}, credits) for value, credits in prices.items()]


def _grid(model: str, keys: tuple[str, str], prices: dict[tuple[Any, Any], str]) -> list[Case]:
    return [(model, dict(zip(keys, combo, strict=True)), c) for combo, c in prices.items()]


SEEDANCE_2 = {
    "480p": ("19", "11.4"),
    "720p": ("41", "25"),
    "1080p": ("102", "62"),
    "4k": ("208", "128"),
}
SEEDANCE_2_FAST = {"480p": ("15.5", "9"), "720p": ("33", "20")}
SEEDANCE_2_MINI = {"480p": ("9.5", "6"), "720p": ("20.5", "12.5")}
VIDEO = ["https://example.com/ref.mp4"]


def _times(rate: str, seconds: int) -> str:
    return str(Decimal(rate) * seconds)


def _seedance(model: str, rates: dict[str, tuple[str, str]]) -> list[Case]:
    """Per-second rates from the catalogue, checked on 5-second clips."""
    cases: list[Case] = []
    for res, (plain, with_video) in rates.items():
        cases.append((model, {"resolution": res, "duration": 5}, _times(plain, 5)))
        cases.append(
            (
                model,
                {"resolution": res, "duration": 5, "reference_video_urls": VIDEO},
                _times(with_video, 5),
            )
        )
    return cases


CASES: list[Case] = [
    *_each("flux-2/pro-text-to-image", "resolution", {"1K": "5", "2K": "7"}),
    *_each("flux-2/pro-image-to-image", "resolution", {"1K": "5", "2K": "7"}),
    *_each("flux-2/flex-text-to-image", "resolution", {"1K": "14", "2K": "24"}),
    *_each("flux-2/flex-image-to-image", "resolution", {"1K": "14", "2K": "24"}),
    *_each("gpt-image/1.5-text-to-image", "quality", {"medium": "4", "high": "22"}),
    *_each("gpt-image/1.5-image-to-image", "quality", {"medium": "4", "high": "22"}),
    *_each("gpt-image-2-text-to-image", "resolution", {"1K": "6", "2K": "10", "4K": "16"}),
    ("gpt-image-2-image-to-image", {"aspect_ratio": "16:9", "resolution": "1K"}, "6"),
    ("gpt-image-2-image-to-image", {"aspect_ratio": "16:9", "resolution": "2K"}, "10"),
    ("gpt-image-2-image-to-image", {"aspect_ratio": "16:9", "resolution": "4K"}, "16"),
    *_each("nano-banana-2", "resolution", {"1K": "8", "2K": "12", "4K": "18"}),
    ("google/imagen4-fast", {}, "4"),
    ("google/imagen4-ultra", {}, "12"),
    ("google/imagen4", {}, "8"),
    ("google/nano-banana-edit", {}, "4"),
    ("google/nano-banana", {}, "4"),
    *_each("nano-banana-pro", "resolution", {"1K": "18", "2K": "18", "4K": "24"}),
    *_each("grok-imagine/text-to-image", "enable_pro", {False: "4", True: "5"}),
    ("grok-imagine/image-to-image", {}, "4"),
    *_each(
        "ideogram/character-edit",
        "rendering_speed",
        {"TURBO": "12", "BALANCED": "18", "QUALITY": "24"},
    ),
    *_each(
        "ideogram/character-remix",
        "rendering_speed",
        {"TURBO": "12", "BALANCED": "18", "QUALITY": "24"},
    ),
    *_each(
        "ideogram/character", "rendering_speed", {"TURBO": "12", "BALANCED": "18", "QUALITY": "24"}
    ),
    *_each(
        "ideogram/v3-text-to-image",
        "rendering_speed",
        {"TURBO": "3.5", "BALANCED": "7", "QUALITY": "10"},
    ),
    *_each(
        "ideogram/v3-edit", "rendering_speed", {"TURBO": "3.5", "BALANCED": "7", "QUALITY": "10"}
    ),
    *_each(
        "ideogram/v3-remix", "rendering_speed", {"TURBO": "3.5", "BALANCED": "7", "QUALITY": "10"}
    ),
    ("qwen/text-to-image", {"image_size": "square_hd"}, "4.194304"),
    ("qwen/image-edit", {"image_size": "square_hd"}, "6.291456"),
    ("qwen2/image-edit", {}, "5.6"),
    ("qwen2/text-to-image", {}, "5.6"),
    ("recraft/remove-background", {}, "1"),
    ("recraft/crisp-upscale", {}, "0.5"),
    ("seedream/4.5-text-to-image", {}, "6.5"),
    ("seedream/4.5-edit", {}, "6.5"),
    ("seedream/5-lite-text-to-image", {}, "5.5"),
    ("seedream/5-lite-image-to-image", {}, "5.5"),
    ("wan/2-7-image", {}, "4.8"),
    ("wan/2-7-image-pro", {}, "12"),
    ("z-image", {}, "0.8"),
    ("elevenlabs/text-to-speech-turbo-2-5", {"text": "x" * 1000}, "6"),
    ("elevenlabs/text-to-speech-multilingual-v2", {"text": "x" * 1000}, "12"),
    *_seedance("bytedance/seedance-2", SEEDANCE_2),
    *_seedance("bytedance/seedance-2-fast", SEEDANCE_2_FAST),
    *_seedance("bytedance/seedance-2-mini", SEEDANCE_2_MINI),
    *_grid(
        "bytedance/seedance-1.5-pro",
        ("resolution", "generate_audio"),
        {
            ("480p", False): "7",
            ("480p", True): "14",
            ("720p", False): "14",
            ("720p", True): "28",
            ("1080p", False): "30",
            ("1080p", True): "60",
        },
    ),
    *_grid(
        "gemini-omni-video",
        ("resolution", "duration"),
        {
            ("720p", "4"): "90",
            ("1080p", "6"): "120",
            ("720p", "8"): "150",
            ("1080p", "10"): "180",
            ("4k", "4"): "210",
            ("4k", "6"): "240",
            ("4k", "8"): "270",
            ("4k", "10"): "300",
        },
    ),
    ("grok-imagine/text-to-video", {"resolution": "480p", "duration": 10}, "16"),
    ("grok-imagine/text-to-video", {"resolution": "720p", "duration": 10}, "30"),
    ("grok-imagine/image-to-video", {"resolution": "720p", "duration": 6}, "18"),
    ("grok-imagine-video-1-5-preview", {"resolution": "480p", "duration": 10}, "16"),
    ("grok-imagine/upscale", {}, "10"),
    *_grid(
        "hailuo/2-3-image-to-video-pro",
        ("duration", "resolution"),
        {("6", "768P"): "45", ("10", "768P"): "90", ("6", "1080P"): "80"},
    ),
    *_grid(
        "hailuo/2-3-image-to-video-standard",
        ("duration", "resolution"),
        {("6", "768P"): "30", ("10", "768P"): "50", ("6", "1080P"): "50"},
    ),
    ("hailuo/02-text-to-video-pro", {}, "57"),
    ("hailuo/02-image-to-video-pro", {}, "57"),
    *_each("hailuo/02-text-to-video-standard", "duration", {"6": "30", "10": "50"}),
    *_grid(
        "hailuo/02-image-to-video-standard",
        ("duration", "resolution"),
        {("6", "512P"): "12", ("10", "512P"): "20", ("10", "768P"): "50"},
    ),
    *[
        (m, {"resolution": r, "duration": 5}, _times(c, 5))
        for m in (
            "happyhorse/text-to-video",
            "happyhorse/image-to-video",
            "happyhorse/reference-to-video",
        )
        for r, c in (("720p", "28"), ("1080p", "48"))
    ],
    *[
        (m, {"resolution": r, "duration": 10}, c)
        for m in (
            "happyhorse-1-1/text-to-video",
            "happyhorse-1-1/image-to-video",
            "happyhorse-1-1/reference-to-video",
        )
        for r, c in (("720p", "225"), ("1080p", "290"))
    ],
    *[
        (m, {"sound": s, "duration": d}, c)
        for m in ("kling-2.6/text-to-video", "kling-2.6/image-to-video")
        for (s, d), c in (
            ((False, "5"), "55"),
            ((False, "10"), "110"),
            ((True, "5"), "110"),
            ((True, "10"), "220"),
        )
    ],
    *[
        (m, {"duration": d}, c)
        for m in ("kling/v2-5-turbo-image-to-video-pro", "kling/v2-5-turbo-text-to-video-pro")
        for d, c in (("5", "42"), ("10", "84"))
    ],
    *[
        (m, {"duration": d}, c)
        for m in ("kling/v2-1-master-image-to-video", "kling/v2-1-master-text-to-video")
        for d, c in (("5", "160"), ("10", "320"))
    ],
    *_each("kling/v2-1-pro", "duration", {"5": "50", "10": "100"}),
    *_each("kling/v2-1-standard", "duration", {"5": "25", "10": "50"}),
    *_grid(
        "kling-3.0/video",
        ("mode", "sound"),
        {
            ("std", False): "70",
            ("std", True): "100",
            ("pro", False): "90",
            ("pro", True): "135",
            ("4K", False): "335",
            ("4K", True): "335",
        },
    ),
    *[
        (m, {"resolution": r, "duration": "10"}, c)
        for m in ("kling/v3-turbo-text-to-video", "kling/v3-turbo-image-to-video")
        for r, c in (("720p", "180"), ("1080p", "225"))
    ],
    *[
        (m, {"resolution": r, "duration": d}, c)
        for m in ("wan/2-6-text-to-video", "wan/2-6-image-to-video")
        for (r, d), c in (
            (("720p", "5"), "70"),
            (("720p", "10"), "140"),
            (("720p", "15"), "210"),
            (("1080p", "5"), "104.5"),
            (("1080p", "10"), "209.5"),
            (("1080p", "15"), "315"),
        )
    ],
    *_grid(
        "wan/2-6-video-to-video",
        ("resolution", "duration"),
        {
            ("720p", "5"): "70",
            ("720p", "10"): "140",
            ("1080p", "5"): "104.5",
            ("1080p", "10"): "209.5",
        },
    ),
    *[
        (m, {"resolution": r}, c)
        for m in ("wan/2-2-a14b-image-to-video-turbo", "wan/2-2-a14b-text-to-video-turbo")
        for r, c in (("480p", "40"), ("720p", "80"))
    ],
    *[
        (m, {"duration": d, "resolution": r}, c)
        for m in ("wan/2-5-image-to-video", "wan/2-5-text-to-video")
        for (d, r), c in (
            (("5", "720p"), "60"),
            (("10", "720p"), "120"),
            (("5", "1080p"), "100"),
            (("10", "1080p"), "200"),
        )
    ],
    *[
        (m, {"resolution": r, "duration": 5}, c)
        for m in (
            "wan/2-7-text-to-video",
            "wan/2-7-image-to-video",
            "wan/2-7-videoedit",
            "wan/2-7-r2v",
        )
        for r, c in (("720p", "80"), ("1080p", "120"))
    ],
    *[
        (f"veo-3.1/{tier}", {"resolution": r}, c)
        for tier, prices in (
            ("fast", ("60", "65", "180")),
            ("quality", ("250", "255", "370")),
            ("lite", ("30", "35", "150")),
        )
        for r, c in zip(("720p", "1080p", "4k"), prices, strict=True)
    ],
    *[
        (f"suno/{v}", {"prompt": "a calm piano song"}, "12")
        for v in ("v5-5", "v5", "v4-5-plus", "v4-5-all", "v4-5", "v4")
    ],
]

# Hidden on purpose; each must say why (checked by the tests).
HIDDEN = {
    "bytedance/seedream",
    "bytedance/seedream-v4-text-to-image",
    "bytedance/seedream-v4-edit",
    "bytedance/v1-pro-fast-image-to-video",
    "bytedance/v1-pro-image-to-video",
    "bytedance/v1-pro-text-to-video",
    "bytedance/v1-lite-image-to-video",
    "bytedance/v1-lite-text-to-video",
    "omnihuman-1-5/human-identification",
    "omnihuman-1-5/subject-detection",
    "wan/2-6-flash-image-to-video",
    "wan/2-6-flash-video-to-video",
    "qwen/image-to-image",
    "topaz/image-upscale",
    "elevenlabs/text-to-dialogue-v3",
    "elevenlabs/audio-isolation",
    "happyhorse/video-edit",
    "infinitalk/from-audio",
    "kling/ai-avatar-standard",
    "kling/ai-avatar-pro",
    "kling-2.6/motion-control",
    "kling-3.0/motion-control",
    "omnihuman-1-5",
    "topaz/video-upscale",
    "volcengine/video-to-video-lip-sync",
    "wan/2-2-a14b-speech-to-video-turbo",
    "wan/2-2-animate-move",
    "wan/2-2-animate-replace",
    "grok-imagine/upscale",
    "grok-imagine/extend",
    "sora-2-text-to-video",
    "sora-2-image-to-video",
    "sora-2-pro-text-to-video",
    "sora-2-pro-image-to-video",
    "sora-2-pro-storyboard",
    "sora-2-characters",
    "sora-watermark-remover",
}
