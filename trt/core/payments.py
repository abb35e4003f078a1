"""Telegram Stars top-ups: signed invoices, the pre-checkout check, crediting a payment
once, and refunds.

The invoice payload `t1:<user>:<stars>:<bonus %>:<nonce>:<signature>` is signed with an
HMAC, so a forged payload or one made for another user or amount is refused. It is checked
at pre-checkout and again on successful_payment: the update alone is never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trt.core import referrals
from trt.domain import PaymentStatus, RefusalReason, TgUserId
from trt.errors import AlreadyRefunded, PaymentNotFound, PaymentRefused, RefundFailed
from trt.records import NewPayment, PaymentRecord, PaymentResult
from trt.settings import Settings

if TYPE_CHECKING:
    from trt.core.ports import StarPayments
    from trt.core.repos import Store

logger = logging.getLogger(__name__)

CURRENCY = "XTR"
_VERSION = "t1"


@dataclass(frozen=True, slots=True)
class Invoice:
    user_id: TgUserId
    stars: int
    bonus_pct: int
    nonce: str
    payload: str

    @property
    def bonus(self) -> int:
        """Bonus Stars credited on top of the amount."""
        return self.stars * self.bonus_pct // 100


@dataclass(frozen=True, slots=True)
class PaidStars:
    """What a successful_payment update says (checked again before anything is credited)."""

    user_id: TgUserId
    charge_id: str
    provider_charge_id: str | None
    amount: int
    currency: str
    payload: str


def payment_key(settings: Settings, bot_token: str) -> bytes:
    """The HMAC key for invoice payloads: PAYMENT_SECRET, or derived from the bot token."""
    secret = settings.payment_secret.get_secret_value() if settings.payment_secret else bot_token
    return hashlib.sha256(b"trt-invoice:" + secret.encode()).digest()


def bonus_pct_for(settings: Settings, stars: int) -> int | None:
    """The bonus percentage of a package, 0 for a custom amount within the limits, None when
    the amount is offered neither way."""
    for package_stars, pct in settings.packages:
        if package_stars == stars:
            return pct
    return 0 if settings.topup_min <= stars <= settings.topup_max else None


def new_invoice(key: bytes, user_id: TgUserId, stars: int, bonus_pct: int) -> Invoice:
    nonce = secrets.token_hex(8)
    body = f"{_VERSION}:{user_id}:{stars}:{bonus_pct}:{nonce}"
    return Invoice(user_id, stars, bonus_pct, nonce, f"{body}:{_sign(key, body)}")


def read_payload(key: bytes, payload: str) -> Invoice:
    """Raises: PaymentRefused(FORGED) unless the payload is one we signed."""
    body, _, signature = payload.rpartition(":")
    parts = body.split(":")
    if not hmac.compare_digest(_sign(key, body), signature) or len(parts) != 5:
        raise PaymentRefused(RefusalReason.FORGED, f"payload {payload[:40]!r} is not ours")
    version, user, stars, pct, nonce = parts
    if version != _VERSION or not (user.isdigit() and stars.isdigit() and pct.isdigit()):
        raise PaymentRefused(RefusalReason.FORGED, f"payload {payload[:40]!r} is malformed")
    return Invoice(TgUserId(int(user)), int(stars), int(pct), nonce, payload)


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def check(
    store: Store, settings: Settings, key: bytes, *, user_id: TgUserId, payload: str,
    amount: int, currency: str,
) -> Invoice:  # fmt: skip
    """Whether this user may pay this invoice now. Raises: PaymentRefused with the reason."""
    invoice = read_payload(key, payload)
    problems = [
        (invoice.user_id != user_id, RefusalReason.WRONG_USER, f"made for {invoice.user_id}"),
        (currency != CURRENCY, RefusalReason.CURRENCY, f"currency {currency}"),
        (amount != invoice.stars, RefusalReason.AMOUNT, f"{amount} ⭐ for {invoice.stars}"),
        (bonus_pct_for(settings, invoice.stars) != invoice.bonus_pct,
         RefusalReason.PACKAGE_GONE, f"{invoice.stars} ⭐ +{invoice.bonus_pct}% is gone"),
    ]  # fmt: skip
    for failed, reason, detail in problems:
        if failed:
            raise PaymentRefused(reason, f"user {user_id}: {detail}")
    if (await store.users.get(user_id)).is_banned:
        raise PaymentRefused(RefusalReason.BANNED, f"user {user_id} is banned")
    if await store.payments.payload_used(payload):
        raise PaymentRefused(RefusalReason.REPLAYED, f"invoice {invoice.nonce} was paid before")
    return invoice


async def complete(
    store: Store, settings: Settings, key: bytes, paid: PaidStars,
    refunds: StarPayments | None = None,
) -> PaymentResult:  # fmt: skip
    """Credit a successful payment once (by its charge id). One that does not check out is
    recorded as rejected, credits nothing, and its Stars go back through `refunds`."""
    try:
        return await _recorded(store, paid.charge_id)
    except PaymentNotFound:
        pass
    try:
        invoice = await check(
            store, settings, key, user_id=paid.user_id, payload=paid.payload,
            amount=paid.amount, currency=paid.currency,
        )  # fmt: skip
    except PaymentRefused as exc:
        logger.warning("payment %s rejected: %s", paid.charge_id, exc)
        return await _reject(store, paid, exc, refunds)
    new = NewPayment(
        paid.charge_id, paid.provider_charge_id, paid.user_id, paid.amount, paid.currency,
        paid.payload, bonus=invoice.bonus,
    )  # fmt: skip
    bonus = referrals.bonus_for(
        paid.amount, invoice.bonus, percent=settings.referral_bonus_percent,
        cap=settings.referral_bonus, markup=settings.price_markup,
    )  # fmt: skip
    return await store.payments.record(new, referral_bonus=bonus)


async def _recorded(store: Store, charge_id: str) -> PaymentResult:
    """A charge seen before (a repeated update): nothing moves. Raises: PaymentNotFound."""
    payment = await store.payments.get(charge_id)
    balance = (await store.users.get(payment.user_id)).balance
    return PaymentResult(payment, False, balance)


async def _reject(
    store: Store, paid: PaidStars, exc: PaymentRefused, refunds: StarPayments | None
) -> PaymentResult:
    new = NewPayment(
        paid.charge_id, paid.provider_charge_id, paid.user_id, paid.amount, paid.currency,
        paid.payload[:128], status=PaymentStatus.REJECTED, note=f"rejected: {exc.reason}",
    )  # fmt: skip
    result = await store.payments.record(new)
    if not result.applied or refunds is None:
        return result
    try:
        return await refund(store, refunds, paid.charge_id, reason=result.payment.note or "")
    except RefundFailed as failed:
        logger.error("rejected payment %s not refunded: %s", paid.charge_id, failed)
        return result


async def refund(
    store: Store, telegram: StarPayments, charge_id: str, *, reason: str, force: bool = False
) -> PaymentResult:
    """Return a payment's Stars through Telegram and take its credit back, both or neither.

    Raises: PaymentNotFound, AlreadyRefunded, RefundExceedsBalance, RefundFailed.
    """

    async def confirm(payment: PaymentRecord) -> None:
        await telegram.refund(payment.user_id, payment.telegram_payment_charge_id)

    result = await store.payments.reverse(charge_id, reason=reason, force=force, confirm=confirm)
    logger.info("payment %s refunded: %s", charge_id, reason)
    return result


async def telegram_refunded(
    store: Store, user_id: TgUserId, charge_id: str
) -> PaymentResult | None:
    """Telegram reports a refund (`refunded_payment`): the Stars are gone already, so the
    credit is reversed as far as the balance allows, once. None when there is nothing to do."""
    try:
        payment = await store.payments.get(charge_id)
        if payment.user_id != user_id:
            raise PaymentNotFound(charge_id)
        return await store.payments.reverse(charge_id, reason="refunded by Telegram", force=True)
    except AlreadyRefunded:
        return None
    except PaymentNotFound:
        logger.warning("Telegram refunded an unknown payment %s of user %s", charge_id, user_id)
        return None


async def last_payments(store: Store, user_id: TgUserId, count: int = 5) -> list[PaymentRecord]:
    return await store.payments.find(user_id=user_id, limit=count)
