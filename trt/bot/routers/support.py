"""/paysupport (Telegram requires it of bots that sell) and /terms, with texts the operator
may set (PAYSUPPORT_TEXT, TERMS_TEXT); /paysupport also tells the admins."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.core import payments
from trt.core.services import Services
from trt.records import PaymentRecord, UserRecord


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(paysupport, Command("paysupport"))
    router.message.register(terms, Command("terms"))
    return router


async def paysupport(message: Message, *, services: Services, user: UserRecord, t: Texts) -> None:
    recent = await payments.last_payments(services.store, user.id)
    custom = services.settings.paysupport_text
    await send(message, custom or t.markup("support.paysupport", payments=_lines(t, recent)))
    admin = Texts("en")  # like the other admin alerts
    name = f"@{user.username}" if user.username else user.first_name or "—"
    await services.generation.messenger.alert_admins(admin.markup(
        "support.admin", id=user.id, name=escape(name, quote=False), balance=user.balance,
        payments=_lines(admin, recent),
    ))  # fmt: skip


async def terms(message: Message, *, services: Services, t: Texts) -> None:
    await send(message, services.settings.terms_text or t("support.terms"))


def _lines(t: Texts, recent: list[PaymentRecord]) -> str:
    lines = [
        t("support.payment_line", when=f"{p.created_at:%Y-%m-%d %H:%M}", amount=p.amount,
          status=p.status.value, charge=p.telegram_payment_charge_id)
        for p in recent
    ]  # fmt: skip
    return "\n".join(lines) or t("support.no_payments")
