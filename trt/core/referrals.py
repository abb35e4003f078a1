"""Referrals: a user's invite code is their id in base 36 (`/start ref_<code>`); a new
user who starts the bot through it is bound to the inviter once, never to themselves."""

from __future__ import annotations

import logging
import string
from typing import TYPE_CHECKING

from trt.domain import TgUserId
from trt.records import ReferralStats

if TYPE_CHECKING:
    from trt.core.repos import Store

logger = logging.getLogger(__name__)

PREFIX = "ref_"
_DIGITS = string.digits + string.ascii_lowercase


def code_for(user_id: TgUserId) -> str:
    value: int = user_id
    chars: list[str] = []
    while True:
        value, digit = divmod(value, 36)
        chars.append(_DIGITS[digit])
        if value == 0:
            return "".join(reversed(chars))


def user_of(code: str) -> TgUserId | None:
    """The inviter a code names, or None for a code that cannot be one."""
    if not code or len(code) > 13 or any(c not in _DIGITS for c in code.lower()):
        return None
    return TgUserId(int(code.lower(), 36))


def deep_link(bot_username: str, user_id: TgUserId) -> str:
    return f"https://t.me/{bot_username}?start={PREFIX}{code_for(user_id)}"


async def bind(store: Store, referred: TgUserId, code: str, *, first_start: bool) -> bool:
    """Bind a user who just started the bot to the inviter named by `code`; False (and
    logged) for a returning user, an unknown or own code, or a user bound before."""
    referrer = user_of(code)
    if not first_start or referrer is None or referrer == referred:
        logger.info("referral %r for user %s refused", code, referred)
        return False
    return await store.referrals.bind(referred, referrer)


async def stats(store: Store, referrer: TgUserId) -> ReferralStats:
    return await store.referrals.stats(referrer)
