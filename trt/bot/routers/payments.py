"""Top-ups with Telegram Stars: /topup and its packages, invoices, the pre-checkout answer,
the receipt, and refunds Telegram reports."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, LabeledPrice, Message, PreCheckoutQuery

from trt.bot import keyboards, screens
from trt.bot.callbacks import TopupCb
from trt.bot.filters import Magic
from trt.bot.reply import chat_message, send
from trt.bot.stars import TelegramStars
from trt.bot.texts import Texts, language_of
from trt.core import payments
from trt.core.services import Services
from trt.domain import PaymentStatus, RefusalReason, TgUserId
from trt.errors import PaymentRefused, TrtError
from trt.records import PaymentResult, UserRecord

logger = logging.getLogger(__name__)

MAX_AMOUNT_DIGITS = 9  # any top-up Telegram allows has at most 5


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(topup, Command("topup"))
    router.callback_query.register(buy, TopupCb.filter())
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(paid, Magic(F.successful_payment))
    router.message.register(refunded, Magic(F.refunded_payment))
    return router


async def topup(
    message: Message, command: CommandObject, *, bot: Bot, services: Services,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    """/topup shows the packages; /topup N sends an invoice for N Stars."""
    if not command.args:
        await send(message, *screens.topup(t, services, user))
        return
    amount = command.args.strip()
    # ASCII digits of a sane length: "²".isdigit() is True and int() of 5,000 digits raises.
    if not (amount.isascii() and amount.isdigit() and len(amount) <= MAX_AMOUNT_DIGITS):
        await _limits(message, services, user, t)
        return
    await send_invoice(bot, message, services, user, t, stars=int(amount))


async def buy(
    query: CallbackQuery, callback_data: TopupCb, *, bot: Bot, services: Services,
    user: UserRecord, t: Texts,
) -> None:  # fmt: skip
    await query.answer()
    message = chat_message(query)
    if message is not None:
        await send_invoice(bot, message, services, user, t, stars=callback_data.stars)


async def send_invoice(
    bot: Bot, message: Message, services: Services, user: UserRecord, t: Texts, *, stars: int
) -> None:
    settings = services.settings
    pct = payments.bonus_pct_for(settings, stars)
    if pct is None:
        await _limits(message, services, user, t)
        return
    invoice = payments.new_invoice(_key(services, bot), user.id, stars, pct)
    description = (
        t("topup.description_bonus", stars=stars, bonus=invoice.bonus)
        if invoice.bonus
        else t("topup.description", stars=stars)
    )
    await bot.send_invoice(
        message.chat.id, title=t("topup.title", stars=stars), description=description,
        payload=invoice.payload, currency=payments.CURRENCY, provider_token="",
        prices=[LabeledPrice(label=t("topup.label", stars=stars), amount=stars)],
    )  # fmt: skip


async def _limits(message: Message, services: Services, user: UserRecord, t: Texts) -> None:
    """An amount outside the limits: say them, with the packages the text offers."""
    settings = services.settings
    _, packages = screens.topup(t, services, user)
    await send(message, t("topup.limits", min=settings.topup_min, max=settings.topup_max),
               packages)  # fmt: skip


async def pre_checkout(query: PreCheckoutQuery, *, bot: Bot, services: Services, t: Texts) -> None:
    """Answered at once (Telegram waits 10 s): ok, or the reason the user reads."""
    try:
        await payments.check(
            services.store, services.settings, _key(services, bot),
            user_id=TgUserId(query.from_user.id), payload=query.invoice_payload,
            amount=query.total_amount, currency=query.currency,
        )  # fmt: skip
    except PaymentRefused as exc:
        logger.warning("pre-checkout %s refused: %s", query.id, exc)
        await query.answer(ok=False, error_message=t(f"payment.reason.{exc.reason}"))
        return
    except TrtError as exc:
        logger.error("pre-checkout %s failed: %s", query.id, exc)
        await query.answer(ok=False, error_message=t("error.generic"))
        return
    await query.answer(ok=True)


async def paid(message: Message, *, bot: Bot, services: Services, t: Texts) -> None:
    """Credit once and send the receipt; a repeated update sends nothing."""
    sp = message.successful_payment
    assert sp is not None and message.from_user is not None
    details = payments.PaidStars(
        TgUserId(message.from_user.id), sp.telegram_payment_charge_id,
        sp.provider_payment_charge_id, sp.total_amount, sp.currency, sp.invoice_payload,
    )  # fmt: skip
    refunds = payments.Refunds(
        TelegramStars(bot), alert=services.generation.messenger.alert_admins
    )
    result = await payments.complete(
        services.store, services.settings, _key(services, bot), details, refunds
    )
    if not result.applied:
        return
    await send(message, _receipt(t, result), keyboards.home(t))  # what next: the menu
    if result.referral_rewarded:
        await _tell_referrer(bot, services, details.user_id, result.referral_bonus)


def _receipt(t: Texts, result: PaymentResult) -> str:
    p = result.payment
    if p.status is not PaymentStatus.PAID:
        reason = (p.note or "").removeprefix("rejected: ")
        known = reason in RefusalReason._value2member_map_
        text = t(f"payment.reason.{reason}") if known else t("payment.refused")
        return t("payment.rejected", reason=text, amount=p.amount)
    charge = p.telegram_payment_charge_id
    lines = [t("payment.receipt", amount=p.amount, balance=result.balance, charge=charge)]
    if p.bonus:
        lines.append(t("payment.receipt_bonus", bonus=p.bonus))
    if result.referral_rewarded:
        lines.append(t("payment.receipt_referral", bonus=result.referral_bonus))
    return "\n".join(lines)


async def _tell_referrer(bot: Bot, services: Services, referred: TgUserId, bonus: int) -> None:
    referrer = await services.store.referrals.referrer_of(referred)
    if referrer is None:
        return
    user = await services.store.users.get(referrer)
    t = Texts(user.language or language_of(None))
    try:
        await bot.send_message(
            referrer, t("payment.referrer_bonus", bonus=bonus, balance=user.balance)
        )
    except TelegramAPIError as exc:  # the bonus is credited; the note is only a courtesy
        logger.info("referrer %s not told: %r", referrer, exc)


async def refunded(message: Message, *, services: Services, t: Texts) -> None:
    """Telegram returned a payment's Stars: reverse its credit once and say so."""
    rp = message.refunded_payment
    assert rp is not None and message.from_user is not None
    result = await payments.telegram_refunded(
        services.store, TgUserId(message.from_user.id), rp.telegram_payment_charge_id
    )
    if result is not None:
        await send(message, t("payment.refunded", charge=rp.telegram_payment_charge_id,
                              amount=rp.total_amount, balance=result.balance))  # fmt: skip


def _key(services: Services, bot: Bot) -> bytes:
    return payments.payment_key(services.settings, bot.token)
