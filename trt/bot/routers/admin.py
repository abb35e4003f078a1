"""Admin commands (ADMIN_ID / ADMIN_IDS only; others never learn they exist):
/admin summary, /user ID, /grant ID AMOUNT reason, /ban ID reason, /unban ID reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from trt.bot.filters import Magic
from trt.bot.reply import send
from trt.bot.texts import Texts
from trt.core import support
from trt.core.services import Services
from trt.domain import TgUserId, storable_id
from trt.errors import KieError, UserNotFound


def make_router(admin_ids: frozenset[int]) -> Router:
    router = Router(name=__name__)
    router.message.filter(Magic(F.from_user.id.in_(admin_ids)))
    router.message.register(overview, Command("admin"))
    router.message.register(user_info, Command("user"))
    router.message.register(grant, Command("grant"))
    router.message.register(ban, Command("ban"))
    router.message.register(unban, Command("unban"))
    return router


async def overview(message: Message, *, services: Services, t: Texts) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    s = await services.store.summary(today)
    jobs = ", ".join(f"{state.value} {n}" for state, n in s.jobs_by_state.items()) or t(
        "admin.no_jobs"
    )
    try:
        credits: Decimal | str = await services.kie.credits()
    except KieError as exc:
        credits = str(exc)
    c = s.credits
    await send(message, t(
        "admin.summary", users=s.users, jobs=jobs, paid=c.paid, given=c.given,
        grants=c.grants, bonuses=c.bonuses, welcome=c.welcome, referral=c.referral,
        promo=c.promo, package=c.package, free=c.free, refunds=c.refunds,
        stars_out=s.stars_out, credits=credits,
    ))  # fmt: skip


async def user_info(
    message: Message, command: CommandObject, *, services: Services, t: Texts
) -> None:
    args = (command.args or "").split()
    if len(args) != 1 or not args[0].lstrip("-").isdigit():
        await send(message, t("admin.user_usage"))
        return
    try:
        d = await support.user_details(services.store, TgUserId(int(args[0])), recent=5)
    except UserNotFound:
        await send(message, t("admin.no_user", id=args[0]))
        return
    u = d.user
    jobs = [
        t("admin.job_line", when=f"{j.created_at:%m-%d %H:%M}", model=j.model_id,
          state=j.state.value, price=j.price_stars)
        for j in d.jobs
    ]  # fmt: skip
    ledger = [
        t("admin.ledger_line", when=f"{e.created_at:%m-%d %H:%M}", kind=e.kind.value,
          amount=e.amount, key=e.key)
        for e in d.ledger[:10]
    ]  # fmt: skip
    banned = t("admin.banned_because", reason=u.ban_reason) if u.ban_reason else ""
    flags = (t("admin.banned_flag") + banned if u.is_banned else "") + (
        t("admin.blocked_flag") if u.blocked_bot else ""
    )
    await send(message, t.markup(
        "admin.user", id=u.id, name=t("admin.none") if not u.username else f"@{u.username}",
        balance=u.balance, held=u.held, flags=flags,
        jobs="\n".join(jobs) or t("admin.none"), ledger="\n".join(ledger) or t("admin.none"),
    ))  # fmt: skip


async def grant(message: Message, command: CommandObject, *, services: Services, t: Texts) -> None:
    args = (command.args or "").split(maxsplit=2)
    if len(args) < 3 or not args[0].isdigit() or not args[1].isdigit() or int(args[1]) <= 0:
        await send(message, t("admin.grant_usage"))
        return
    user_id, amount, reason = TgUserId(int(args[0])), int(args[1]), args[2]
    op_id = f"tg:{message.chat.id}:{message.message_id}"  # a re-processed update grants once
    try:
        result = await support.grant(
            services.store, user_id, amount, reason=f"{reason} (by {message.chat.id})",
            op_id=op_id,
        )  # fmt: skip
    except UserNotFound:
        await send(message, t("admin.no_user", id=user_id))
        return
    if not result.applied:
        await send(message, t("admin.grant_repeated"))
        return
    await send(message, t("admin.granted", amount=amount, id=user_id, balance=result.balance))


async def ban(message: Message, command: CommandObject, *, services: Services, t: Texts) -> None:
    await _set_ban(message, command, services, t, banned=True)


async def unban(message: Message, command: CommandObject, *, services: Services, t: Texts) -> None:
    await _set_ban(message, command, services, t, banned=False)


async def _set_ban(
    message: Message, command: CommandObject, services: Services, t: Texts, *, banned: bool
) -> None:
    action = "ban" if banned else "unban"
    args = (command.args or "").split(maxsplit=1)
    if len(args) < 2 or not args[0].isdigit() or not storable_id(int(args[0])):
        await send(message, t(f"admin.{action}_usage"))
        return
    user_id, reason = TgUserId(int(args[0])), args[1]
    actor = f"tg:{message.from_user.id if message.from_user else message.chat.id}"
    try:
        await support.set_ban(services.store, user_id, banned=banned, reason=reason, actor=actor)
    except UserNotFound:
        await send(message, t("admin.no_user", id=user_id))
        return
    await send(message, t(f"admin.{action}ned", id=user_id, reason=reason))
