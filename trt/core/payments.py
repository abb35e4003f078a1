"""Telegram Stars top-ups: signed invoices, the pre-checkout check, crediting a payment
once, and refunds.

The invoice payload `t1:<user>:<stars>:<bonus %>:<nonce>:<signature>` is signed with an
HMAC, so a forged payload or one made for another user or amount is refused. It is checked
at pre-checkout and again on successful_payment: the update alone is never trusted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from trt.core import referrals
from trt.domain import STARS_LIMIT, PaymentStatus, RefusalReason, TgUserId
from trt.errors import AlreadyRefunded, PaymentNotFound, PaymentRefused, RefundFailed
from trt.logs import log_event
from trt.records import NewPayment, PaymentRecord, PaymentResult
from trt.settings import Settings

if TYPE_CHECKING:
    from trt.core.ports import StarPayments
    from trt.core.repos import Store

logger = logging.getLogger(__name__)

CURRENCY = "XTR"
_VERSION = "t1"
MAX_CHARGE_ID = 256  # the column's width; Telegram's ids are far shorter
_UNSTORABLE = "unstorable:"
REFUND_RETRY_DELAYS = (1.0, 5.0)  # seconds before the 2nd and 3rd try of a refused refund


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
    # Bytes, not str: compare_digest refuses non-ASCII str, and a payload is anyone's text.
    given = signature.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(_sign(key, body).encode(), given) or len(parts) != 5:
        raise PaymentRefused(RefusalReason.FORGED, f"payload {payload[:40]!r} is not ours")
    version, user, stars, pct, nonce = parts
    if version != _VERSION or not all(_digits(n) for n in (user, stars, pct)):
        raise PaymentRefused(RefusalReason.FORGED, f"payload {payload[:40]!r} is malformed")
    return Invoice(TgUserId(int(user)), int(stars), int(pct), nonce, payload)


def _digits(text: str) -> bool:
    """ASCII digits only: `"²".isdigit()` is True, and int("²") raises."""
    return text.isascii() and text.isdigit() and len(text) <= 20


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:16]
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


@dataclass(frozen=True, slots=True)
class Refunds:
    """Telegram's refunds, how often to retry a refused one, and whom to alert when it
    still fails (the payment then waits for `trt payments refund`)."""

    telegram: StarPayments
    alert: Callable[[str], Awaitable[None]] | None = None
    retry_delays: tuple[float, ...] = field(default_factory=lambda: REFUND_RETRY_DELAYS)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


async def complete(
    store: Store, settings: Settings, key: bytes, paid: PaidStars,
    refunds: StarPayments | Refunds | None = None,
) -> PaymentResult:  # fmt: skip
    """Credit a successful payment once (by its charge id). One that does not check out is
    recorded as rejected, credits nothing, and its Stars go back through `refunds`."""
    paid = _storable(paid)
    try:
        return await _recorded(store, paid.charge_id)
    except PaymentNotFound:
        pass
    try:
        if paid.charge_id.startswith(_UNSTORABLE):
            raise PaymentRefused(RefusalReason.FORGED, "the charge id is not Telegram's")
        invoice = await check(
            store, settings, key, user_id=paid.user_id, payload=paid.payload,
            amount=paid.amount, currency=paid.currency,
        )  # fmt: skip
    except PaymentRefused as exc:
        log_event(
            logger, "payment_rejected", level=logging.WARNING, user_id=paid.user_id,
            charge_id=paid.charge_id, amount=_loggable(paid.amount), currency=paid.currency,
            reason=str(exc),
        )  # fmt: skip
        return await _reject(store, paid, exc, _as_refunds(refunds))
    new = NewPayment(
        paid.charge_id, paid.provider_charge_id, paid.user_id, paid.amount, paid.currency,
        paid.payload, bonus=invoice.bonus,
    )  # fmt: skip
    bonus = referrals.bonus_for(
        paid.amount, invoice.bonus, percent=settings.referral_bonus_percent,
        cap=settings.referral_bonus, markup=settings.price_markup,
    )  # fmt: skip
    result = await store.payments.record(new, referral_bonus=bonus)
    if result.applied:
        log_event(
            logger, "payment_credited", user_id=paid.user_id, charge_id=paid.charge_id,
            amount=paid.amount, bonus=invoice.bonus or None, balance=result.balance,
            reason="Stars top-up",
        )  # fmt: skip
    return result


async def _recorded(store: Store, charge_id: str) -> PaymentResult:
    """A charge seen before (a repeated update): nothing moves. Raises: PaymentNotFound."""
    payment = await store.payments.get(charge_id)
    balance = (await store.users.get(payment.user_id)).balance
    return PaymentResult(payment, False, balance)


def _storable(paid: PaidStars) -> PaidStars:
    """What the payments table can hold: an amount past its 32-bit column is recorded as 0
    (it is refused in any case), text without NUL bytes or lone surrogates, and a charge
    id too long or too odd to keep becomes a digest of itself (and is refused as forged)."""
    charge = paid.charge_id
    if _clean(charge) != charge or not 0 < len(charge) <= MAX_CHARGE_ID:
        digest = hashlib.sha256(charge.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        charge = _UNSTORABLE + digest
    provider = paid.provider_charge_id
    return replace(
        paid, charge_id=charge, amount=paid.amount if 0 <= paid.amount <= STARS_LIMIT else 0,
        provider_charge_id=_clean(provider)[:MAX_CHARGE_ID] if provider is not None else None,
        currency=_clean(paid.currency)[:8], payload=_clean(paid.payload)[:128],
    )  # fmt: skip


def _clean(text: str) -> str:
    cleaned = text.replace("\x00", "")
    return cleaned.encode("utf-8", "replace").decode() if not cleaned.isascii() else cleaned


def _as_refunds(refunds: StarPayments | Refunds | None) -> Refunds | None:
    if refunds is None or isinstance(refunds, Refunds):
        return refunds
    return Refunds(refunds)


async def _reject(
    store: Store, paid: PaidStars, exc: PaymentRefused, refunds: Refunds | None
) -> PaymentResult:
    new = NewPayment(
        paid.charge_id, paid.provider_charge_id, paid.user_id, paid.amount, paid.currency,
        paid.payload, status=PaymentStatus.REJECTED, note=f"rejected: {exc.reason}",
    )  # fmt: skip
    result = await store.payments.record(new)
    if not result.applied or refunds is None:
        return result
    return await _refund_rejected(store, refunds, result)


def _loggable(amount: int) -> int | str:
    """An amount as logged: a forged one past 64 bits is cut (a log line stays short)."""
    return amount if abs(amount) < 2**63 else f"{str(amount)[:24]}…"


async def _refund_rejected(
    store: Store, refunds: Refunds, rejected: PaymentResult
) -> PaymentResult:
    """Refund a rejected payment, retrying while Telegram refuses; alert when it never
    agrees, so the payment is not left silently unrefunded."""
    charge_id = rejected.payment.telegram_payment_charge_id
    reason = rejected.payment.note or ""
    failure: RefundFailed | None = None
    for delay in (0.0, *refunds.retry_delays):
        if delay:
            await refunds.sleep(delay)
        try:
            return await refund(store, refunds.telegram, charge_id, reason=reason)
        except RefundFailed as failed:
            failure = failed
            logger.warning("refund of rejected payment %s failed: %s", charge_id, failed)
    log_event(
        logger, "payment_refund_failed", level=logging.ERROR,
        user_id=rejected.payment.user_id, charge_id=charge_id,
        amount=rejected.payment.amount, tries=1 + len(refunds.retry_delays),
        reason=str(failure),
    )  # fmt: skip
    if refunds.alert is not None:
        await refunds.alert(
            f"⚠️ Rejected payment {charge_id} of user {rejected.payment.user_id} could not be "
            f"refunded ({failure}). Retry with: trt payments refund {charge_id}"
        )
    return rejected


async def refund(
    store: Store, telegram: StarPayments, charge_id: str, *, reason: str, force: bool = False
) -> PaymentResult:
    """Return a payment's Stars through Telegram and take its credit back, both or neither.

    Raises: PaymentNotFound, AlreadyRefunded, RefundExceedsBalance, RefundFailed.
    """

    async def confirm(payment: PaymentRecord) -> None:
        await telegram.refund(payment.user_id, payment.telegram_payment_charge_id)

    result = await store.payments.reverse(charge_id, reason=reason, force=force, confirm=confirm)
    _refunded(result, reason)
    return result


def _refunded(result: PaymentResult, reason: str) -> None:
    payment = result.payment
    log_event(
        logger, "payment_refunded", level=logging.WARNING, user_id=payment.user_id,
        charge_id=payment.telegram_payment_charge_id, amount=payment.amount,
        taken_back=payment.reversed_stars, shortfall=payment.shortfall or None, reason=reason,
    )  # fmt: skip


async def telegram_refunded(
    store: Store, user_id: TgUserId, charge_id: str
) -> PaymentResult | None:
    """Telegram reports a refund (`refunded_payment`): the Stars are gone already, so the
    credit is reversed as far as the balance allows, once. None when there is nothing to do."""
    try:
        payment = await store.payments.get(charge_id)
        if payment.user_id != user_id:
            raise PaymentNotFound(charge_id)
        result = await store.payments.reverse(charge_id, reason="refunded by Telegram", force=True)
    except AlreadyRefunded:
        return None
    except PaymentNotFound:
        log_event(
            logger, "payment_refund_unknown", level=logging.WARNING, user_id=user_id,
            charge_id=charge_id, reason="Telegram refunded a payment trt has no record of",
        )  # fmt: skip
        return None
    _refunded(result, "refunded by Telegram")
    return result


async def last_payments(store: Store, user_id: TgUserId, count: int = 5) -> list[PaymentRecord]:
    return await store.payments.find(user_id=user_id, limit=count)
