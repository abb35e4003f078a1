"""Logging set-up: one line per event, text or JSON, and no configured secret ever.

The redacting filter is defence in depth: code never logs secrets on purpose, but a URL
with the bot token inside an exception message (aiogram and aiohttp put request URLs in
errors) would otherwise reach the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

REDACTED = "***"
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RedactSecrets(logging.Filter):
    """Replace every configured secret in a record's rendered message and exception."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = self.redact(record.getMessage())
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            message = f"{message}\n{self.redact(text)}"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = message, None
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload |= {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(
    *, json_lines: bool, secrets: Iterable[str], level: int = logging.INFO
) -> None:
    """Send every log record to stderr through the secret filter, as text or JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(secrets))
    text_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(text_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "httpx", "aiogram.event"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
