"""Logging set-up: one line per event, text or JSON, and no configured secret ever.

The redacting filter is defence in depth: code never logs secrets on purpose, but a URL
with the bot token inside an exception message (aiogram and aiohttp put request URLs in
errors) would otherwise reach the log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
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
        for name, value in list(record.__dict__.items()):  # an event's fields (log_event)
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def log_event(
    logger: logging.Logger,
    event: str,
    *,
    level: int = logging.INFO,
    stacklevel: int = 2,
    **fields: object,
) -> None:
    """One operational event on one line: `event key=value …` as text, and in JSON the
    `event` and each field as keys of their own. Fields that are None are left out."""
    shown = {name: value for name, value in fields.items() if value is not None}
    text = " ".join([event, *(f"{name}={_field(value)}" for name, value in shown.items())])
    # stacklevel: the line is the caller's, not this helper's
    logger.log(level, "%s", text, extra={"event": event, **shown}, stacklevel=stacklevel)


def _field(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class ThrottledEvents:
    """Events that a stranger can cause at will (rejected webhooks and callbacks): one line
    per kind at most every `every` seconds, so a flood cannot flood the log; the next line
    says how many were left out meanwhile."""

    def __init__(
        self, logger: logging.Logger, *, every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.logger = logger
        self.every = every
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._left_out: dict[tuple[str, str], int] = {}

    def log(self, event: str, *, reason: str, **fields: object) -> bool:
        """Log the event unless one of its kind (event and reason) was logged too recently;
        True when logged."""
        kind, now = (event, reason), self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.every:
            self._left_out[kind] = self._left_out.get(kind, 0) + 1
            return False
        self._last[kind] = now
        left_out = self._left_out.pop(kind, 0) or None
        log_event(self.logger, event, level=logging.WARNING, stacklevel=3, reason=reason,
                  **fields, left_out=left_out)  # fmt: skip
        return True


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
