"""What users do in the emulator: messages, button presses, files and payments."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from trt.sandbox.telegram.files import media_json
from trt.sandbox.telegram.model import MEDIA_KINDS, ChatHistory, ChatMessage, Payment, TgUser
from trt.sandbox.telegram.text import command_entities

if TYPE_CHECKING:
    from trt.sandbox.telegram.core import TelegramEmulator


async def send_text(
    emu: TelegramEmulator, user: TgUser, history: ChatHistory, text: str
) -> ChatMessage:
    message = emu.add_message(history, sender=user, text=text, entities=command_entities(text))
    emu.updates.push("message", message.to_json())
    return message


async def click(
    emu: TelegramEmulator,
    user: TgUser,
    history: ChatHistory,
    message_id: int,
    *,
    data: str | None,
    label: str | None,
    forge: bool,
) -> str:
    message = history.get(message_id)
    if label is not None:
        data = message.button(label).callback_data
    if not forge:
        if message.deleted or not message.from_bot:
            raise LookupError(f"message {message_id} is not a live bot message")
        if data not in {b.callback_data for b in message.buttons()}:
            raise LookupError(f"message {message_id} has no button with data {data!r}")
    query_id = str(secrets.randbits(63))
    query = {
        "id": query_id,
        "from": user.to_json(),
        "message": message.to_json(),
        "chat_instance": str(abs(hash((emu.token, history.chat.id)))),
        "data": data,
    }
    emu.callback_queries[query_id] = query
    emu.updates.push("callback_query", query)
    return query_id


async def send_file(
    emu: TelegramEmulator,
    user: TgUser,
    history: ChatHistory,
    kind: str,
    *,
    data: bytes,
    caption: str | None,
    details: dict[str, Any],
) -> ChatMessage:
    if kind not in MEDIA_KINDS:
        raise ValueError(f"kind must be one of {MEDIA_KINDS}")
    stored = emu.files.add(kind, data, **details)
    sizes = emu.files.photo_sizes(stored) if kind == "photo" else [stored]
    message = emu.add_message(
        history, sender=user, kind=kind, file=stored, caption=caption,
        media=media_json(kind, stored, sizes),
    )  # fmt: skip
    emu.updates.push("message", message.to_json())
    return message


async def pay(
    emu: TelegramEmulator,
    user: TgUser,
    history: ChatHistory,
    *,
    message_id: int | None,
    link: str | None,
    wait: float,
) -> Payment:
    invoice = _invoice(emu, history, message_id, link)
    query_id = str(secrets.randbits(63))
    waiting = asyncio.get_running_loop().create_future()
    emu.pre_checkouts[query_id] = waiting
    query = {"id": query_id, "from": user.to_json(), **invoice}
    emu.updates.push("pre_checkout_query", query)
    try:
        ok, error = await asyncio.wait_for(waiting, wait)
    except TimeoutError:
        ok, error = False, "the bot did not answer the pre-checkout query in time"
    finally:
        emu.pre_checkouts.pop(query_id, None)
    payment = Payment(
        query_id, user.id, ok, error, total_amount=invoice["total_amount"],
        currency=invoice["currency"], payload=invoice["invoice_payload"],
    )  # fmt: skip
    if not ok:
        return payment
    payment.charge_id = "stxe" + secrets.token_urlsafe(32)
    emu.payments[payment.charge_id] = payment
    receipt = {
        **invoice,
        "telegram_payment_charge_id": payment.charge_id,
        "provider_payment_charge_id": f"{user.id}_{len(emu.payments)}",
    }
    message = emu.add_message(
        history, sender=user, kind="payment", extra={"successful_payment": receipt}
    )
    emu.updates.push("message", message.to_json())
    return payment


def _invoice(
    emu: TelegramEmulator, history: ChatHistory, message_id: int | None, link: str | None
) -> dict[str, Any]:
    if link is not None:
        details = emu.invoice_links.get(link)
        if details is None:
            raise LookupError(f"no invoice link {link!r}")
        return dict(details)
    if message_id is None:
        raise ValueError("pay() needs an invoice message id or a link")
    message = history.get(message_id)
    if message.kind != "invoice" or message.deleted:
        raise LookupError(f"message {message_id} is not an invoice")
    invoice = message.extra["invoice"]
    return {
        "currency": invoice["currency"],
        "total_amount": invoice["total_amount"],
        "invoice_payload": message.payload or "",
    }
