"""Bot API methods for Telegram Stars payments: invoices, pre-checkout answers, refunds."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from trt.sandbox.telegram.errors import bad_request
from trt.sandbox.telegram.params import Params
from trt.sandbox.telegram.text import check_markup

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator

MAX_STARS = 10_000  # Telegram's ceiling for one Stars invoice
_QUERY_GONE = "query is too old and response timeout expired or query ID is invalid"


def _invoice(p: Params) -> dict[str, Any]:
    """Validate an invoice's fields as Telegram does; Stars (XTR) take exactly one price."""
    title, description, payload = p.text("title"), p.text("description"), p.text("payload")
    if not 1 <= len(title) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID")
    if not 1 <= len(description) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(payload.encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    currency, prices = p.text("currency"), p.json("prices")
    if not isinstance(prices, list) or not prices:
        raise bad_request("can't parse prices JSON object")
    amounts = [item.get("amount") if isinstance(item, dict) else None for item in prices]
    if not all(isinstance(a, int) and a > 0 for a in amounts):
        raise bad_request("can't parse prices JSON object")
    total = sum(a for a in amounts if isinstance(a, int))
    if currency == "XTR":
        if len(prices) != 1 or p.opt_text("provider_token"):
            raise bad_request("STARS_INVOICE_INVALID")
        if total > MAX_STARS:
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    elif not p.opt_text("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    return {
        "title": title, "description": description, "payload": payload,
        "currency": currency, "total_amount": total,
        "start_parameter": p.opt_text("start_parameter") or "",
    }  # fmt: skip


async def send_invoice(emu: TelegramEmulator, p: Params) -> Any:
    history = emu.target_chat(p.integer("chat_id"))
    invoice = _invoice(p)
    markup = check_markup(p.json("reply_markup"))
    emu.check_flood(history)
    payload = invoice.pop("payload")
    message = emu.add_message(
        history, sender=None, kind="invoice", payload=payload, reply_markup=markup,
        extra={"invoice": invoice},
    )  # fmt: skip
    return message.to_json()


async def create_invoice_link(emu: TelegramEmulator, p: Params) -> Any:
    invoice = _invoice(p)
    link = "https://t.me/$" + secrets.token_urlsafe(16)
    emu.invoice_links[link] = {
        "currency": invoice["currency"],
        "total_amount": invoice["total_amount"],
        "invoice_payload": invoice["payload"],
    }
    return link


async def answer_pre_checkout_query(emu: TelegramEmulator, p: Params) -> Any:
    waiting = emu.pre_checkouts.get(p.text("pre_checkout_query_id"))
    if waiting is None or waiting.done():
        raise bad_request(_QUERY_GONE)
    ok = p.flag("ok")
    error = p.opt_text("error_message")
    if not ok and not error:
        raise bad_request("error_message is required when ok is false")
    waiting.set_result((ok, error))
    return True


async def refund_star_payment(emu: TelegramEmulator, p: Params) -> Any:
    user_id = p.integer("user_id")
    payment = emu.payments.get(p.text("telegram_payment_charge_id"))
    if payment is None or payment.user_id != user_id:
        raise bad_request("CHARGE_NOT_FOUND")
    if payment.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    payment.refunded = True
    emu.notifier.notify()
    return True


HANDLERS = {
    "sendInvoice": send_invoice,
    "createInvoiceLink": create_invoice_link,
    "answerPreCheckoutQuery": answer_pre_checkout_query,
    "refundStarPayment": refund_star_payment,
}
