"""Operator controls: models taken off sale, per-model markups and maintenance mode.

They live in the database, so every instance sells alike: each process keeps a snapshot,
re-read every CONTROLS_REFRESH_SECONDS by a supervised task (`refresh`), and a change made
in this process applies here at once. Every change is written with its audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from trt.catalog.pricing import Pricing
from trt.catalog.registry import Registry
from trt.core.audit import log_action
from trt.core.repos import ControlsRepo
from trt.errors import DatabaseUnavailable, ModelDisabled, UsageError
from trt.records import ControlsState, Maintenance, ModelOverride, NewAction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A per-model markup below 1 sells under KIE's cost; above 10 is surely a typo.
MARKUP_MIN, MARKUP_MAX = Decimal(1), Decimal(10)
MARKUP_RANGE = f"a number from {MARKUP_MIN} to {MARKUP_MAX}, at most 3 decimals (e.g. 1.8)"


def parse_markup(text: str) -> Decimal:
    """A markup as given on the command line or in the chat. Raises: UsageError."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise UsageError("MARKUP", f"{text!r} is not {MARKUP_RANGE}") from None
    if not value.is_finite() or not MARKUP_MIN <= value <= MARKUP_MAX:
        raise UsageError("MARKUP", f"{text} is out of range: {MARKUP_RANGE}")
    if value != value.quantize(Decimal("0.001")):
        raise UsageError("MARKUP", f"{text} has too many decimals: {MARKUP_RANGE}")
    return value.normalize()


class Controls:
    """This process's view of the controls, and the one way to change them."""

    def __init__(self, repo: ControlsRepo, registry: Registry) -> None:
        self._repo = repo
        self._registry = registry
        self._state = ControlsState()
        # Bumped whenever the state changes, so what was built from it (the bot's catalogue
        # and its price ranges) knows to rebuild.
        self.version = 0

    @property
    def state(self) -> ControlsState:
        return self._state

    @property
    def maintenance(self) -> Maintenance:
        return self._state.maintenance

    async def refresh(self) -> bool:
        """Read the controls from the database; True when they changed."""
        return self._adopt(await self._repo.state())

    def disabled(self, model_id: str) -> ModelOverride | None:
        """The override that took the model off sale, or None while it is sold."""
        found = self._state.overrides.get(model_id)
        return found if found is not None and found.disabled else None

    def markup(self, model_id: str) -> Decimal | None:
        """The model's own markup; None: the global PRICE_MARKUP."""
        found = self._state.overrides.get(model_id)
        return Decimal(found.markup) if found is not None and found.markup else None

    def pricing(self, base: Pricing, model_id: str) -> Pricing:
        """`base` with the model's own markup in place of the global one, if it has one."""
        own = self.markup(model_id)
        return base if own is None else replace(base, markup=own)

    def require_sellable(self, model_id: str) -> None:
        """Raises: ModelDisabled."""
        off = self.disabled(model_id)
        if off is not None:
            raise ModelDisabled(model_id, off.reason)

    async def disable(self, model_id: str, *, reason: str, actor: str) -> ModelOverride:
        """Take a model off sale. Raises: ModelNotFound, UsageError (an empty reason)."""
        self._registry.get(model_id)
        if not reason.strip():
            raise UsageError("--reason", "say why the model is disabled")
        action = NewAction(actor, "model.disable", model_id, reason.strip())
        return await self._changed(
            action,
            self._repo.set_disabled(model_id, True, reason=reason.strip(), action=action),
        )

    async def enable(self, model_id: str, *, reason: str | None, actor: str) -> ModelOverride:
        """Put a model back on sale. Raises: ModelNotFound."""
        self._registry.get(model_id)
        action = NewAction(actor, "model.enable", model_id, reason)
        return await self._changed(
            action, self._repo.set_disabled(model_id, False, reason=None, action=action)
        )

    async def set_markup(
        self, model_id: str, markup: Decimal | None, *, actor: str, reason: str | None = None
    ) -> ModelOverride:
        """The model's own markup; None returns it to the global one. Raises: ModelNotFound."""
        self._registry.get(model_id)
        previous = self.markup(model_id)
        text = None if markup is None else str(markup)
        detail = {"markup": text or "global", "was": str(previous) if previous else "global"}
        name = "model.markup" if markup is not None else "model.markup_reset"
        action = NewAction(actor, name, model_id, reason, detail)
        return await self._changed(action, self._repo.set_markup(model_id, text, action=action))

    async def set_maintenance(self, on: bool, *, message: str | None, actor: str) -> Maintenance:
        """Switch maintenance mode (`message`: what users are told instead of the default)."""
        message = (message or "").strip() or None
        action = NewAction(actor, "maintenance.on" if on else "maintenance.off", None, message)
        return await self._changed(
            action, self._repo.set_maintenance(on, message=message, action=action)
        )

    async def _changed(self, action: NewAction, change: Awaitable[T]) -> T:
        result = await change
        log_action(action)
        try:
            await self.refresh()  # here at once; elsewhere at the next refresh
        except DatabaseUnavailable as exc:  # the change is made; the periodic refresh follows
            logger.warning("controls not re-read after %s: %s", action.action, exc)
        return result

    def _adopt(self, state: ControlsState) -> bool:
        if state == self._state:
            return False
        self._state = state
        self.version += 1
        return True
