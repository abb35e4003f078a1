"""`trt users`: accounts, balances and goodwill grants."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, StarsArgs, UserArg, with_runtime
from trt.cli.render import plain, signed, stars, when
from trt.domain import TgUserId

app = typer.Typer(no_args_is_help=True, help="Users: balances, history, grants.")


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
def ban(user_id: UserArg) -> None:
    """Stop serving a user: the bot answers them once, then ignores them."""
    _set_ban(user_id, banned=True)
    console.success(f"user {user_id} is banned")


@app.command()
def unban(user_id: UserArg) -> None:
    """Serve a banned user again."""
    _set_ban(user_id, banned=False)
    console.success(f"user {user_id} is no longer banned")


def _set_ban(user_id: int, *, banned: bool) -> None:
    async def change(rt: Any) -> None:
        await rt.store.users.set_banned(TgUserId(user_id), banned)
        # Forget that the ban was announced, so a later ban is announced again.
        await rt.store.forms.forget_banned(user_id)

    with_runtime(change)
