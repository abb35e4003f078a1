"""`trt audit`: the operator-actions log — who changed what, when and why."""

from __future__ import annotations

from typing import Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, with_runtime
from trt.cli.render import plain, when

app = typer.Typer(no_args_is_help=True, help="The operator-actions audit log.")


@app.command("list")
def list_actions(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List operator actions, newest first."""
    actions = with_runtime(lambda rt: rt.store.controls.actions(limit=limit))
    if as_json:
        console.json_out({"actions": [plain(a) for a in actions]})
        return
    if not actions:
        console.info("no operator actions recorded")
        return
    console.table(
        ["id", "time (UTC)", "actor", "action", "subject", "reason", "detail"],
        [(a.id, when(a.at), a.actor, a.action, a.subject, a.reason,
          ", ".join(f"{k}={v}" for k, v in a.detail.items()) or None) for a in actions],
    )  # fmt: skip
