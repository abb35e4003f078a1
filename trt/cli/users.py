"""`trt users`: accounts, balances and goodwill grants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from trt.cli import console
from trt.cli.common import (
    JsonFlag,
    ReasonOption,
    StarsArgs,
    UserArg,
    cli_actor,
    with_runtime,
)
from trt.cli.render import plain, signed, stars, when
from trt.domain import TgUserId, UserOrder

if TYPE_CHECKING:
    from trt.records import UserOverview, UserRecord

app = typer.Typer(no_args_is_help=True, help="Users: find them, balances, grants, debits, bans.")
LimitOption = Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")]
_COLUMNS = ["id", "username", "name", "lang", "balance", "held", "spent", "flags", "joined (UTC)"]


@app.command("list")
def list_users(
    sort: Annotated[UserOrder, typer.Option(help="Most Stars spent, or newest first.")] = (
        UserOrder.SPENT
    ),
    limit: LimitOption = 50,
    as_json: JsonFlag = False,
) -> None:
    """List users with their balance and what they spent."""
    from trt.core import support

    found = with_runtime(lambda rt: support.users_overview(rt.store, order=sort, limit=limit))
    _render_users(found, as_json=as_json)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="An id, or part of a username or first name.")],
    sort: Annotated[UserOrder, typer.Option(help="Most Stars spent, or newest first.")] = (
        UserOrder.SPENT
    ),
    limit: LimitOption = 50,
    as_json: JsonFlag = False,
) -> None:
    """Find users by id, username (with or without @) or first name, in any case."""
    from trt.core import support

    found = with_runtime(
        lambda rt: support.users_overview(rt.store, order=sort, limit=limit, text=text)
    )
    _render_users(found, as_json=as_json)


def _render_users(found: list[UserOverview], *, as_json: bool) -> None:
    if as_json:
        console.json_out({"users": [plain(u) for u in found]})
        return
    if not found:
        console.info("no users match")
        return
    console.table(_COLUMNS, [_user_row(u) for u in found])


def _user_row(u: UserOverview) -> tuple[object, ...]:
    flags = ", ".join(f for f, on in (("banned", u.is_banned), ("blocked", u.blocked_bot)) if on)
    return (
        u.id, u.username and f"@{u.username}", u.first_name, u.language, stars(u.balance),
        stars(u.held), stars(u.spent), flags or None, when(u.created_at),
    )  # fmt: skip


@app.command()
def show(user_id: UserArg, as_json: JsonFlag = False) -> None:
    """Show a user's balance, held Stars, last ledger rows and recent jobs."""
    from trt.core import support

    d = with_runtime(lambda rt: support.user_details(rt.store, TgUserId(user_id)))
    if as_json:
        console.json_out({
            "user": plain(d.user),
            "ledger": [plain(e) for e in d.ledger],
            "jobs": [plain(j) for j in d.jobs],
        })  # fmt: skip
        return
    u = d.user
    console.fields([
        ("id", u.id), ("username", u.username), ("language", u.language),
        ("balance", stars(u.balance)), ("held", stars(u.held)), ("banned", u.is_banned),
        ("blocked the bot", u.blocked_bot), ("since", when(u.created_at)),
        *_ban_fields(u),
    ])  # fmt: skip
    console.table(
        ["time (UTC)", "kind", "amount", "balance", "held", "key", "reason"],
        [(when(e.created_at), e.kind, stars(e.amount), signed(e.balance_delta),
          signed(e.held_delta), e.key, e.reason) for e in d.ledger],
        title="last ledger rows",
    )  # fmt: skip
    console.table(
        ["id", "model", "state", "price", "created (UTC)"],
        [(j.id, j.model_id, j.state, stars(j.price_stars), when(j.created_at)) for j in d.jobs],
        title="recent jobs",
    )


def _ban_fields(u: UserRecord) -> list[tuple[str, object]]:
    if u.ban_changed_at is None:  # never banned or unbanned since bans had reasons
        return []
    what = "banned" if u.is_banned else "unbanned"
    return [(f"{what} (UTC)", when(u.ban_changed_at)), (f"{what} by", u.ban_changed_by),
            (f"{what} because", u.ban_reason)]  # fmt: skip


@app.command()
def credit(
    user_id: UserArg,
    amount: Annotated[
        int, typer.Argument(**StarsArgs, help="Stars to grant (> 0).", show_default=False)
    ],
    reason: Annotated[str, typer.Option(help="Why; kept in the ledger.", show_default=False)],
    key: Annotated[
        str | None, typer.Option(help="Operation id: repeating it grants nothing more.")
    ] = None,
) -> None:
    """Grant Stars to a user (recorded in the ledger as a grant)."""
    from trt.core import support

    result = with_runtime(
        lambda rt: support.grant(rt.store, TgUserId(user_id), amount, reason=reason, op_id=key)
    )
    if result.applied:
        console.success(
            f"granted {stars(amount)} to user {user_id}; balance now {stars(result.balance)}"
        )
    else:
        first = result.entry
        console.warn(
            f"key {first.key} was used on {when(first.created_at)} "
            f"({stars(first.amount)} to user {first.user_id}): nothing moved"
        )


@app.command()
def debit(
    user_id: UserArg,
    amount: Annotated[
        int, typer.Argument(**StarsArgs, help="Stars to take back (> 0).", show_default=False)
    ],
    reason: ReasonOption,
    key: Annotated[
        str | None, typer.Option(help="Operation id: repeating it takes nothing more.")
    ] = None,
) -> None:
    """Take Stars back from a user's balance (never below zero; a ledger debit)."""
    from trt.core import support

    result = with_runtime(
        lambda rt: support.debit(
            rt.store, TgUserId(user_id), amount, reason=reason, actor=cli_actor(), op_id=key
        )
    )
    if result.applied:
        console.success(
            f"took {stars(amount)} from user {user_id}; balance now {stars(result.balance)}"
        )
        return
    first = result.entry
    console.warn(
        f"key {first.key} was used on {when(first.created_at)} "
        f"({first.kind} {stars(first.amount)}, user {first.user_id}): nothing moved"
    )


@app.command()
def ban(user_id: UserArg, reason: ReasonOption) -> None:
    """Stop serving a user: the bot answers them once, then ignores them."""
    _set_ban(user_id, banned=True, reason=reason)
    console.success(f"user {user_id} is banned")


@app.command()
def unban(user_id: UserArg, reason: ReasonOption) -> None:
    """Serve a banned user again."""
    _set_ban(user_id, banned=False, reason=reason)
    console.success(f"user {user_id} is no longer banned")


def _set_ban(user_id: int, *, banned: bool, reason: str) -> None:
    from trt.core import support

    with_runtime(
        lambda rt: support.set_ban(
            rt.store, TgUserId(user_id), banned=banned, reason=reason, actor=cli_actor()
        )
    )
