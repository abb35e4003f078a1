"""Updates for the bot: increasing ids, getUpdates long polling, or webhook delivery.

An update waits in one queue. Without a webhook, getUpdates reads it and a later
``offset`` confirms it; with a webhook, one worker POSTs updates in order, retrying a
non-2xx answer a bounded number of times (then the update is dropped and
getWebhookInfo reports the error), as Telegram does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout

from trt.sandbox.telegram.errors import ApiError, bad_request
from trt.sandbox.telegram.model import EmulatorOptions, WebhookDelivery
from trt.sandbox.telegram.waiting import Notifier

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] = field(default_factory=list)
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self, pending: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.allowed_updates:
            data["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            data["last_error_date"] = self.last_error_date
            data["last_error_message"] = self.last_error_message
        return data


def check_webhook_url(url: str, secret_token: str | None) -> None:
    """Refuse what Telegram refuses, plus any host but this machine (the emulator's rule)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if parts.hostname not in LOCAL_HOSTS:
        raise bad_request(
            "bad webhook: Failed to resolve host: the emulator delivers only to "
            "127.0.0.1/localhost"
        )
    if secret_token is not None and (
        not 1 <= len(secret_token) <= 256 or not set(secret_token) <= _SECRET_CHARS
    ):
        raise bad_request("secret token contains unallowed characters")


class UpdateHub:
    """The bot's update queue and its two ways out."""

    def __init__(self, options: EmulatorOptions, notifier: Notifier) -> None:
        self.options = options
        self.notifier = notifier
        self.pending: deque[dict[str, Any]] = deque()
        self.sent: list[dict[str, Any]] = []  # every update ever created, in order
        self.webhook: Webhook | None = None
        self.deliveries: list[WebhookDelivery] = []
        self.allowed_updates: list[str] = []
        self._next_id = 1
        self._poll_generation = 0
        self.polls_waiting = 0  # getUpdates requests being answered right now
        self._session: ClientSession | None = None

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a new update of `kind` (``message``, ``callback_query``…)."""
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self.sent.append(update)
        if not self.allowed_updates or kind in self.allowed_updates:
            self.pending.append(update)
        self.notifier.notify()
        return update

    def restart_ids(self, at: int) -> None:
        """Number the next update `at`, higher or lower than the last: Telegram picks a
        random next update_id after a week without updates."""
        if not 0 < at < 2**63:
            raise ValueError("an update_id is a positive 64-bit integer")
        self._next_id = at

    def drop_pending(self) -> None:
        self.pending.clear()

    # --- getUpdates --------------------------------------------------------------------

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            while len(self.pending) > -offset:
                self.pending.popleft()
            return
        while self.pending and self.pending[0]["update_id"] < offset:
            self.pending.popleft()

    async def get_updates(
        self, offset: int | None, limit: int, wait: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        """Confirm up to `offset`, then answer at once or when an update arrives."""
        if self.webhook is not None:
            raise _webhook_conflict()
        if allowed is not None:
            self.allowed_updates = allowed
        self._confirm(offset)
        self._poll_generation += 1
        mine = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0)
        self.polls_waiting += 1
        self.notifier.notify()  # an older long poll ends with 409
        try:
            while True:
                self._check_poll(mine)
                remaining = deadline - loop.time()
                if self.pending or remaining <= 0:
                    return list(itertools.islice(self.pending, max(1, min(limit, 100))))
                await self.notifier.changed(remaining)
        finally:
            self.polls_waiting -= 1

    def _check_poll(self, mine: int) -> None:
        if self._poll_generation != mine:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only "
                "one bot instance is running",
            )
        if self.webhook is not None:
            raise _webhook_conflict()

    # --- webhook -----------------------------------------------------------------------

    def set_webhook(self, hook: Webhook, *, drop_pending: bool) -> None:
        if drop_pending:
            self.drop_pending()
        self.webhook = hook
        if hook.allowed_updates:
            self.allowed_updates = hook.allowed_updates
        self.notifier.notify()

    def delete_webhook(self, *, drop_pending: bool) -> None:
        if drop_pending:
            self.drop_pending()
        self.webhook = None
        self.notifier.notify()

    async def run_webhook(self) -> None:
        """Deliver queued updates to the webhook, one at a time, in order, forever."""
        while True:
            hook = self.webhook
            if hook is None or not self.pending:
                await self.notifier.changed(None)
                continue
            update = self.pending[0]
            await self._deliver(hook, update)
            if self.pending and self.pending[0] is update:
                self.pending.popleft()
            self.notifier.notify()

    async def _deliver(self, hook: Webhook, update: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        for attempt in range(1, self.options.webhook_attempts + 1):
            status, error = await self._post(hook.url, update, headers)
            self.deliveries.append(
                WebhookDelivery(update["update_id"], hook.url, headers, status, attempt)
            )
            self.notifier.notify()
            if status is not None and 200 <= status < 300:
                return
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            if attempt < self.options.webhook_attempts:
                await asyncio.sleep(self.options.webhook_retry_delay * 2 ** (attempt - 1))
        logger.info("dropping update %s after %s attempts", update["update_id"], attempt)

    async def _post(
        self, url: str, update: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int | None, str]:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=30))
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as answer:
                await answer.read()
                return answer.status, f"Wrong response from the webhook: {answer.status}"
        except (ClientError, TimeoutError) as e:
            return None, f"Connection failed: {type(e).__name__}"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _webhook_conflict() -> ApiError:
    return ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
        "to delete the webhook first",
    )
