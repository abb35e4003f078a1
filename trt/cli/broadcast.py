"""`trt broadcast`: announcements to the bot's users, sent by the running server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, with_runtime
from trt.cli.render import plain, when
from trt.domain import RecipientState
from trt.errors import UsageError

if TYPE_CHECKING:
    from trt.records import BroadcastRecord
    from trt.runtime import Runtime

app = typer.Typer(
    invoke_without_command=True,
    help="Announce to every user (or those of one language); `status`, `list`, `cancel`.",
)

IdArg = Annotated[int, typer.Argument(min=1, help="The broadcast's id.", show_default=False)]
OUTCOMES = list(RecipientState)


@app.callback()
def broadcast(
    ctx: typer.Context,
    text: Annotated[
        str | None, typer.Option(help="The message, HTML as the bot sends it.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="Read the message from this UTF-8 file.")
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Only users of this language: ru or en.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the recipients and the text; store nothing.")
    ] = False,
) -> None:
    """Queue an announcement for `trt serve` to send (paced, resumable, reported)."""
    if ctx.invoked_subcommand is not None:
        return
    if text is None and file is None and lang is None and not dry_run:
        console.line(ctx.get_help())
        raise typer.Exit
    body = _message(text, file)
    if dry_run:
        _dry_run(body, lang)
        return
    record, serving = with_runtime(lambda rt: _queue(rt, body, lang))
    console.success(
        f"broadcast {record.id} queued for {record.total} users "
        f"(language: {record.language or 'all'})"
    )
    if serving:
        console.info(
            f"the server is sending it; follow it with `trt broadcast status {record.id}`"
        )
    else:
        console.warn("no server is running: it will be sent when `trt serve` runs")


@app.command()
def status(
    broadcast_id: Annotated[
        int | None, typer.Argument(min=1, help="The broadcast's id (default: the newest).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a broadcast's progress: sent, blocked, failed, skipped, unknown, pending."""
    record = with_runtime(lambda rt: _one(rt, broadcast_id))
    if as_json:
        console.json_out(plain(record))
        return
    console.fields([
        ("id", record.id), ("state", record.state), ("language", record.language or "all"),
        ("by", record.created_by), ("queued", when(record.created_at)),
        ("started", when(record.started_at)), ("finished", when(record.finished_at)),
        ("recipients", record.total),
        *((state.value, record.count(state)) for state in OUTCOMES),
    ])  # fmt: skip


@app.command("list")
def list_broadcasts(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The latest broadcasts with their counts."""
    records = with_runtime(lambda rt: rt.store.broadcasts.find(limit=limit))
    if as_json:
        console.json_out([plain(r) for r in records])
        return
    console.table(
        ["id", "state", "language", "queued (UTC)", "recipients", "sent", "blocked", "failed",
         "skipped", "unknown", "pending", "text"],
        [(r.id, r.state, r.language or "all", when(r.created_at), r.total,
          *(r.count(s) for s in (RecipientState.SENT, RecipientState.BLOCKED,
                                 RecipientState.FAILED, RecipientState.SKIPPED,
                                 RecipientState.UNKNOWN, RecipientState.PENDING)),
          _snippet(r.text)) for r in records],
    )  # fmt: skip


@app.command()
def cancel(broadcast_id: IdArg) -> None:
    """Stop a queued or running broadcast; users not reached yet do not get it."""
    from trt.core import broadcasts
    from trt.core.audit import cli_actor

    record = with_runtime(lambda rt: broadcasts.cancel(rt.store, broadcast_id, by=cli_actor()))
    console.success(
        f"broadcast {broadcast_id} cancelled: {record.count(RecipientState.SENT)} sent, "
        f"{record.count(RecipientState.PENDING)} not sent"
    )


def _message(text: str | None, file: Path | None) -> str:
    if (text is None) == (file is None):
        raise UsageError("--text/--file", "give exactly one (or a command: status, list, cancel)")
    if text is not None:
        return text
    assert file is not None
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError("--file", f"cannot read {file}: {reason}") from None


def _dry_run(body: str, lang: str | None) -> None:
    from trt.core import broadcasts

    shown = with_runtime(lambda rt: broadcasts.preview(rt.store.broadcasts, body, language=lang))
    console.info(
        f"dry run: would reach {shown.audience} users (language: {lang or 'all'}); "
        "nothing stored or sent"
    )
    console.line(shown.text)


async def _queue(rt: Runtime, body: str, lang: str | None) -> tuple[BroadcastRecord, bool]:
    from trt.core import broadcasts
    from trt.core.audit import cli_actor
    from trt.runtime import leader_running

    record = await broadcasts.queue(rt.store, body, language=lang, created_by=cli_actor())
    return record, await leader_running(rt)


async def _one(rt: Runtime, broadcast_id: int | None) -> BroadcastRecord:
    from trt.errors import BroadcastNotFound

    if broadcast_id is not None:
        return await rt.store.broadcasts.get(broadcast_id)
    newest = await rt.store.broadcasts.find(limit=1)
    if not newest:
        raise BroadcastNotFound("(none yet)")
    return newest[0]


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 40 else flat[:39] + "…"
