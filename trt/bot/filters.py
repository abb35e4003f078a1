"""Filters that run on the event loop.

aiogram awaits a filter only when it is a coroutine function or a `Filter`; anything else
(a bare `F` rule, a `State`) runs through `asyncio.to_thread`, a thread hop per check per
update: ~0.1 ms each, and a message passes several on its way to its handler. Wrap such
rules in `Magic`, and use `StateFilter` for states.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.utils.magic_filter import MagicFilter


class Magic(Filter):
    """A magic-filter rule (`F.text`, `F.from_user.id.in_(ids)`…) checked on the loop."""

    def __init__(self, rule: MagicFilter) -> None:
        self.rule = rule

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.rule.resolve(event))
