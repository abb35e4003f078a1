"""`trt verify`: readiness checks for CI and before a deploy."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag


def verify(
    online: Annotated[
        bool,
        typer.Option("--online", help="Also ask KIE (credits) and Telegram (getMe, webhook)."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check settings, registry, database, ledger, models, server and bot; exit 1 on any FAIL."""
    from trt.settings import load_settings
    from trt.verify import Outcome
    from trt.verify import verify as run_checks

    checks = asyncio.run(run_checks(load_settings(), online=online))
    failed = any(c.outcome is Outcome.FAIL for c in checks)
    if as_json:
        console.json_out({
            "ok": not failed,
            "checks": [{"name": c.name, "outcome": c.outcome.value, "reason": c.reason}
                       for c in checks],
        })  # fmt: skip
    else:
        console.table(
            ["check", "result", "reason"], [(c.name, c.outcome, c.reason) for c in checks]
        )
    if failed:
        raise typer.Exit(code=1)
