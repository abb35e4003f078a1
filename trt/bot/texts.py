"""User-facing texts in Russian and English, chosen from the user's Telegram language."""

from __future__ import annotations

from html import escape

from trt.core.failures import FailureReason, reason_of

RUSSIAN_LIKE = frozenset({"ru", "uk", "be", "kk"})

TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "caption": "{title} · {price} ⭐",
        "emulator": "⚠️ эмулятор KIE: это тестовый результат",
        "link": "Результат готов: {url}",
        "failed": "Не получилось: {reason}. {price} ⭐ возвращены на баланс.",
        "reason.generation_failed": "генерация не удалась",
        "reason.rejected": "запрос отклонён модерацией или проверкой параметров",
        "reason.provider_out_of_credits": "сервис временно недоступен",
        "reason.provider_unavailable": "сервис временно недоступен",
        "reason.timed_out": "генерация заняла слишком много времени",
        "reason.not_submitted": "задачу не удалось отправить",
        "reason.upload_failed": "не удалось загрузить файл",
        "reason.support": "задача отменена поддержкой",
        "start": "Привет! Ваш баланс: {balance} ⭐",
    },
    "en": {
        "caption": "{title} · {price} ⭐",
        "emulator": "⚠️ KIE emulator: this is a test result",
        "link": "Your result is ready: {url}",
        "failed": "That did not work: {reason}. {price} ⭐ are back on your balance.",
        "reason.generation_failed": "the generation failed",
        "reason.rejected": "the request was rejected by moderation or a parameter check",
        "reason.provider_out_of_credits": "the service is temporarily unavailable",
        "reason.provider_unavailable": "the service is temporarily unavailable",
        "reason.timed_out": "the generation took too long",
        "reason.not_submitted": "the task could not be sent",
        "reason.upload_failed": "a file could not be uploaded",
        "reason.support": "support cancelled the task",
        "start": "Hello! Your balance: {balance} ⭐",
    },
}


def language_of(code: str | None) -> str:
    """ru for Russian, Ukrainian, Belarusian and Kazakh speakers; en for everyone else."""
    return "ru" if code and code.split("-")[0].lower() in RUSSIAN_LIKE else "en"


def text(lang: str, key: str, **values: object) -> str:
    """A text with its values HTML-escaped, safe for parse_mode=HTML."""
    template = TEXTS.get(lang, TEXTS["en"])[key]
    return template.format(**{k: escape(str(v)) for k, v in values.items()})


def failure_reason(lang: str, error: str | None) -> str:
    reason = reason_of(error) or FailureReason.GENERATION_FAILED
    return text(lang, f"reason.{reason.value}")
