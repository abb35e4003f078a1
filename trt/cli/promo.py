"""`trt promo`: promo codes users redeem with /promo CODE for Stars."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, StarsArgs, with_runtime
from trt.cli.render import plain, stars, when

app = typer.Typer(no_args_is_help=True, help="Promo codes: create, list, disable.")

CodeArg = Annotated[str, typer.Argument(help="The code (letters, digits, - and _).")]


def _parse_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date like 2026-12-31") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def create(
    code: CodeArg,
    stars_: Annotated[int, typer.Option("--stars", **StarsArgs, help="Stars per redemption.")],
    uses: Annotated[
        int | None, typer.Option(**StarsArgs, help="How many users may redeem it.")
    ] = None,
    expires: Annotated[
        datetime | None,
        typer.Option(parser=_parse_date, help="Expiry: an ISO date or time (UTC)."),
    ] = None,
    new_users_only: Annotated[
        bool, typer.Option("--new-users-only", help="Only users who join after it is made.")
    ] = False,
) -> None:
    """Create a promo code."""
    from trt.core import promo

    made = with_runtime(
        lambda rt: promo.create(
            rt.store,
            code,
            stars=stars_,
            uses=uses,
            expires_at=expires,
            new_users_only=new_users_only,
        )  # fmt: skip
    )
    limit = f"{made.uses} uses" if made.uses else "unlimited uses"
    console.success(f"promo code {made.code}: {stars(made.stars)}, {limit}")


@app.command("list")
def list_codes(as_json: JsonFlag = False) -> None:
    """List every promo code with its use count."""
    from trt.core.promo import state_of

    codes = with_runtime(lambda rt: rt.store.promo.find())
    now = datetime.now(UTC)
    if as_json:
        console.json_out({"codes": [{**plain(c), "state": state_of(c, now)} for c in codes]})
        return
    if not codes:
        console.info("no promo codes")
        return
    console.table(
        ["code", "Stars", "used", "expires (UTC)", "new users only", "state"],
        [(c.code, stars(c.stars), f"{c.used}/{c.uses if c.uses else '∞'}", when(c.expires_at),
          "yes" if c.new_users_only else "no", state_of(c, now))
         for c in codes],
    )  # fmt: skip


@app.command()
def disable(code: CodeArg) -> None:
    """Stop a promo code from being redeemed (earlier redemptions stay)."""
    done = with_runtime(lambda rt: rt.store.promo.disable(code.strip().upper()))
    console.success(f"promo code {done.code} is disabled ({done.used} redemptions)")
