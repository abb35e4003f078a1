"""The operator-actions audit log: who did what, when and why.

The seam every operator feature calls: `await record_action(store, NewAction(actor, action,
subject, reason, detail))`. Controls (`trt.core.controls`) write their audit rows inside
their own transaction instead, through the store.
"""

from __future__ import annotations

import getpass
import logging

from trt.core.repos import Store
from trt.logs import log_event
from trt.records import NewAction, OperatorAction

logger = logging.getLogger(__name__)


def cli_actor() -> str:
    """`cli:<os user>`: who runs this `trt` command."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        name = "unknown"
    return f"cli:{name}"


def tg_actor(user_id: int) -> str:
    """`tg:<id>`: an admin acting from the chat."""
    return f"tg:{user_id}"


def log_action(action: NewAction) -> None:
    """The action's one log line (the audit row is its durable twin)."""
    log_event(
        logger, "operator_action", action=action.action, actor=action.actor,
        subject=action.subject, reason=action.reason, stacklevel=3, **action.detail,
    )  # fmt: skip


async def record_action(store: Store, action: NewAction) -> OperatorAction:
    """Append `action` to the audit log and log it."""
    recorded = await store.controls.record(action)
    log_action(action)
    return recorded
