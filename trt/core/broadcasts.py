"""Announcements to the bot's users, as the CLI and the admin chat ask for them: a preview
(who would get it, and the text as Telegram would take it), queueing, status, cancelling.
The server sends them (`trt.core.broadcaster`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from trt.core import telegram_html
from trt.core.audit import record_action
from trt.core.repos import BroadcastRepo, Store
from trt.errors import UsageError
from trt.logs import log_event
from trt.records import BroadcastRecord, NewAction, NewBroadcast

logger = logging.getLogger(__name__)

LANGUAGES = ("ru", "en")  # the bot's locales: a broadcast may target the users of one


@dataclass(frozen=True, slots=True)
class Preview:
    text: str  # as it will be sent (stripped)
    language: str | None
    audience: int  # users it would reach now (not opted out, blocked or banned)


async def preview(repo: BroadcastRepo, text: str, *, language: str | None) -> Preview:
    """What a broadcast would be, nothing stored. Raises: BroadcastTextInvalid, UsageError."""
    if language is not None and language not in LANGUAGES:
        raise UsageError("--lang", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    checked = telegram_html.check(text)
    return Preview(checked, language, await repo.audience(language))


async def queue(
    store: Store,
    text: str,
    *,
    language: str | None,
    created_by: str,
    report_chat_id: int | None = None,
) -> BroadcastRecord:
    """Store it for the server to send, and in the audit log. Raises: BroadcastTextInvalid,
    UsageError."""
    checked = (await preview(store.broadcasts, text, language=language)).text
    new = NewBroadcast(checked, created_by, language, report_chat_id)
    record = await store.broadcasts.create(new, now=datetime.now(UTC))
    log_event(
        logger, "broadcast_queued", broadcast_id=record.id, by=created_by,
        language=language or "all", recipients=record.total, chars=len(checked),
    )  # fmt: skip
    detail = {"language": language or "all", "recipients": record.total, "text": checked[:200]}
    await record_action(
        store, NewAction(created_by, "broadcast.queue", str(record.id), None, detail)
    )
    return record


async def cancel(store: Store, broadcast_id: int, *, by: str) -> BroadcastRecord:
    """Stop sending it (audited). Raises: BroadcastNotFound, BroadcastFinished."""
    record = await store.broadcasts.cancel(broadcast_id, by=by, now=datetime.now(UTC))
    log_event(
        logger, "broadcast_cancelled", broadcast_id=broadcast_id, by=by,
        **{state.value: n for state, n in record.counts.items()},
    )  # fmt: skip
    await record_action(store, NewAction(by, "broadcast.cancel", str(broadcast_id)))
    return record
