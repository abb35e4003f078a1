"""Operator controls and their audit log. A change and its audit row are one transaction:
the log never misses a change, and never records one that did not happen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.records import ControlsState, Maintenance, ModelOverride, NewAction, OperatorAction
from trt.store.dialect import upserting
from trt.store.engine import Database
from trt.store.tables import maintenance, model_overrides, operator_actions
from trt.store.text import clean, fit, storable

# Column lengths (tables.py): what is longer is cut, never a failed write.
ACTOR, ACTION, SUBJECT = 64, 48, 128


class SqlControls:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def state(self) -> ControlsState:
        """Every override and the maintenance switch, read together."""
        async with self._db.transaction(readonly=True) as conn:
            rows = await conn.execute(select(model_overrides))
            overrides = {row.model_id: _override(row) for row in rows}
            switch = (await conn.execute(select(maintenance))).first()
        return ControlsState(overrides, _maintenance(switch))

    async def set_disabled(
        self, model_id: str, disabled: bool, *, reason: str | None, action: NewAction
    ) -> ModelOverride:
        """Disable (with its reason) or enable a model, and log the action."""
        why = clean(reason) if disabled and reason is not None else None
        changes = {"disabled": disabled, "disabled_reason": why}
        return await self._override(model_id, changes, action)

    async def set_markup(
        self, model_id: str, markup: str | None, *, action: NewAction
    ) -> ModelOverride:
        """A model's own markup (None: back to the global one), and log the action."""
        return await self._override(model_id, {"markup": markup}, action)

    async def set_maintenance(
        self, on: bool, *, message: str | None, action: NewAction
    ) -> Maintenance:
        """Switch maintenance mode, and log the action."""
        now = datetime.now(UTC)
        text = clean(message) if on and message is not None else None
        row = {"id": 1, "enabled": on, "message": text,
               "updated_at": now, "updated_by": fit(action.actor, ACTOR)}  # fmt: skip
        statement = upserting(
            self._db.dialect, maintenance, key="id", update=[k for k in row if k != "id"]
        )
        async with self._db.transaction() as conn:
            await conn.execute(statement, [row])
            await insert_action(conn, action, now)
        return _maintenance_from(row)

    async def record(self, action: NewAction) -> OperatorAction:
        """Log an action that changes nothing here (another feature's)."""
        now = datetime.now(UTC)
        async with self._db.transaction() as conn:
            action_id = await insert_action(conn, action, now)
        return OperatorAction(
            action_id, now, action.actor, action.action, action.subject, action.reason,
            dict(action.detail),
        )  # fmt: skip

    async def actions(self, *, limit: int) -> list[OperatorAction]:
        """The newest `limit` actions, newest first."""
        statement = select(operator_actions).order_by(operator_actions.c.id.desc()).limit(limit)
        async with self._db.transaction(readonly=True) as conn:
            return [_action(row) for row in await conn.execute(statement)]

    async def _override(
        self, model_id: str, changes: dict[str, Any], action: NewAction
    ) -> ModelOverride:
        now = datetime.now(UTC)
        row: dict[str, Any] = {
            "model_id": model_id, "disabled": False, "disabled_reason": None, "markup": None,
            **changes, "updated_at": now, "updated_by": fit(action.actor, ACTOR),
        }  # fmt: skip
        # Only the changed columns are set on a row already there: two instances changing
        # different controls of one model at once (a disable and a markup) both stick.
        columns = (*changes, "updated_at", "updated_by")
        statement = upserting(self._db.dialect, model_overrides, key="model_id", update=columns)
        async with self._db.transaction(write_first=True) as conn:
            await conn.execute(statement, [row])
            current = await conn.execute(
                select(model_overrides).where(model_overrides.c.model_id == model_id)
            )
            found = current.one()
            await insert_action(conn, action, now)
        return ModelOverride(
            model_id, found.disabled, found.disabled_reason, found.markup, found.updated_at,
            found.updated_by,
        )  # fmt: skip


async def insert_action(conn: AsyncConnection, action: NewAction, at: datetime) -> int:
    """Append `action` to the audit log inside the caller's transaction; its id."""
    statement = operator_actions.insert().values(
        at=at, actor=fit(action.actor, ACTOR), action=fit(action.action, ACTION),
        subject=fit(action.subject, SUBJECT),
        reason=clean(action.reason) if action.reason is not None else None,
        detail=storable(dict(action.detail)),
    ).returning(operator_actions.c.id)  # fmt: skip
    action_id: int = (await conn.execute(statement)).scalar_one()
    return action_id


def _override(row: Row[Any]) -> ModelOverride:
    return ModelOverride(
        row.model_id, row.disabled, row.disabled_reason, row.markup, row.updated_at,
        row.updated_by,
    )  # fmt: skip


def _maintenance(row: Row[Any] | None) -> Maintenance:
    if row is None:
        return Maintenance()
    return Maintenance(row.enabled, row.message, row.updated_at, row.updated_by)


def _maintenance_from(row: dict[str, Any]) -> Maintenance:
    return Maintenance(row["enabled"], row["message"], row["updated_at"], row["updated_by"])


def _action(row: Row[Any]) -> OperatorAction:
    return OperatorAction(
        row.id, row.at, row.actor, row.action, row.subject, row.reason, dict(row.detail or {})
    )
