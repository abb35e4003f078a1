"""Paying invoices in the emulator while the driver feeds the bot its updates."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import LabeledPrice

from tests.bot.driver import Driver
from trt.core import payments
from trt.domain import TgUserId
from trt.sandbox.telegram.model import ChatMessage, Payment


async def pay(d: Driver, invoice: ChatMessage) -> Payment:
    """The user pays `invoice`; the bot answers the pre-checkout and gets the payment."""
    paying = asyncio.create_task(d.tg.pay(d.user_id, invoice.message_id))
    while not paying.done():  # the pre-checkout query arrives once `pay` has run
        await d.pump()
    await d.pump()
    return paying.result()


def key(d: Driver) -> bytes:
    return payments.payment_key(d.services.settings, d.bot.token)


async def invoice_for(d: Driver, payload: str, amount: int) -> ChatMessage:
    """An invoice with any payload (a forged or stale one), sent as the bot would."""
    await d.bot.send_invoice(
        d.user_id, "Top-up", "Stars", payload, currency="XTR",
        prices=[LabeledPrice(label="x", amount=amount)],
    )  # fmt: skip
    return d.last()


def signed(d: Driver, stars: int, pct: int = 0, user: int | None = None) -> str:
    return payments.new_invoice(key(d), TgUserId(user or d.user_id), stars, pct).payload


def payment_message(d: Driver) -> ChatMessage:
    return next(m for m in reversed(d.tg.chat(d.user_id).messages) if m.kind == "payment")


async def push(d: Driver, **extra: Any) -> None:
    """A user message with `extra` fields (successful_payment, refunded_payment) arrives."""
    user = d.tg.user(d.user_id)
    message = d.tg.add_message(d.tg.chat(d.user_id), sender=user, kind="payment", extra=extra)
    d.tg.updates.push("message", message.to_json())
    await d.pump()
