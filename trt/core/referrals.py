"""Referrals: a user's invite code is their id in base 36 (`/start ref_<code>`); a new
user who starts the bot through it is bound to the inviter once, never to themselves."""

from __future__ import annotations

import logging
import math
import string
from decimal import Decimal
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


def bonus_for(topup: int, package_bonus: int, *, percent: int, cap: int, markup: float) -> int:
    """Each side's bonus for a referred user's first top-up of `topup` Stars (plus its
    package bonus): `percent` of it, at most `cap`, and never more than the margin pays for.

    Every Star on a balance buys generations that cost the operator 1/markup of a Star at
    KIE. The top-up brings `topup` Stars and puts topup + package_bonus + 2 × bonus on
    balances, so it stays profitable while 2 × bonus <= topup × markup - topup -
    package_bonus. (A flat 10 ⭐ on a 10 ⭐ top-up put 30 ⭐ of generations on two
    accounts for 10 ⭐ paid.)"""
    by_margin = (Decimal(topup) * Decimal(str(markup)) - topup - package_bonus) / 2
    return max(0, min(cap, topup * percent // 100, math.floor(by_margin)))


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
