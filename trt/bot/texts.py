"""User-facing texts from the locale files (locales/ru.toml, locales/en.toml).

Every value put into a text is HTML-escaped, so a user's "<3" or "&" never breaks
parse_mode=HTML ("can't parse entities"); long texts are split under Telegram's limits.
"""

from __future__ import annotations

import tomllib
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from trt.core.failures import FailureReason, detail_of, reason_of

LANGUAGES = ("ru", "en")
RUSSIAN_LIKE = frozenset({"ru", "uk", "be", "kk"})
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
REASON_CLIP = 160  # KIE's words for a refused input, inside one sentence
LOCALES = Path(__file__).with_name("locales")


@cache
def table(lang: str) -> dict[str, str]:
    """One language's texts as flat `section.key` → template."""
    with (LOCALES / f"{lang}.toml").open("rb") as f:
        return dict(_flatten(tomllib.load(f)))


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        pairs += _flatten(value, f"{name}.") if isinstance(value, dict) else [(name, value)]
    return pairs


def language_of(code: str | None) -> str:
    """ru for Russian, Ukrainian, Belarusian and Kazakh speakers; en for everyone else."""
    return "ru" if code and code.split("-")[0].lower() in RUSSIAN_LIKE else "en"


def text(lang: str, key: str, /, **values: object) -> str:
    """A text with its values HTML-escaped, safe for parse_mode=HTML."""
    template = table(lang if lang in LANGUAGES else "en")[key]
    return template.format(**{k: escape(str(v), quote=False) for k, v in values.items()})


def markup(lang: str, key: str, /, **values: object) -> str:
    """Like `text`, but the values are trusted markup built from other texts."""
    template = table(lang if lang in LANGUAGES else "en")[key]
    return template.format(**values)


class Texts:
    """`text` bound to one language; handlers receive it as `t`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def __call__(self, key: str, /, **values: object) -> str:
        return text(self.lang, key, **values)

    def markup(self, key: str, /, **values: object) -> str:
        return markup(self.lang, key, **values)


def failure_reason(lang: str, error: str | None) -> str:
    """Why a job failed, in words (escaped); an input KIE refused is named by KIE's words."""
    reason = reason_of(error) or FailureReason.GENERATION_FAILED
    detail = detail_of(error)
    if reason is FailureReason.INVALID_INPUT and detail:
        return text(lang, "reason.invalid_input_named", detail=clip(detail, REASON_CLIP))
    return text(lang, f"reason.{reason.value}")


def clip(value: str, limit: int) -> str:
    """`value` cut to `limit` characters with an ellipsis (before escaping)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def split_text(body: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Chunks under `limit`, cut at line breaks (our tags never span lines)."""
    chunks: list[str] = []
    current = ""
    for line in body.split("\n"):
        for piece in [line[i : i + limit] for i in range(0, len(line), limit)] or [""]:
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) > limit:
                chunks.append(current)
                candidate = piece
            current = candidate
    chunks.append(current)
    return [c for c in chunks if c]
