"""`trt payments`: Telegram Stars payments — find them, refund them, report the money."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, UserOption, parse_since, with_runtime, with_services
from trt.cli.exports import CsvFlag, ExportSince, OutputOption
from trt.cli.render import plain, signed, stars, when
from trt.domain import TgUserId

if TYPE_CHECKING:
    from decimal import Decimal

    from trt.core.reports import ModelMargin, MoneyReport
    from trt.records import LedgerEntryRecord, PaymentRecord
    from trt.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Telegram Stars payments: list, refund, report.")

ChargeArg = Annotated[
    str, typer.Argument(help="The telegram_payment_charge_id.", show_default=False)
]
SinceOption = Annotated[
    datetime | None,
    typer.Option(parser=parse_since, help="Since: 2h, 30m, 1d or an ISO date."),
]
_COLUMNS = ["charge id", "user", "amount", "bonus", "status", "paid (UTC)", "refunded (UTC)"]


@app.command("list")
def list_payments(
    user: UserOption = None,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List payments, newest first."""
    user_id = TgUserId(user) if user is not None else None
    found = with_runtime(
        lambda rt: rt.store.payments.find(user_id=user_id, since=since, limit=limit)
    )
    if as_json:
        console.json_out({"payments": [plain(p) for p in found]})
        return
    if not found:
        console.info("no payments match")
        return
    console.table(_COLUMNS, [_row(p) for p in found])


@app.command()
def show(charge_id: ChargeArg, as_json: JsonFlag = False) -> None:
    """Show one payment with its ledger rows."""
    p, ledger = with_runtime(lambda rt: _payment_and_ledger(rt, charge_id))
    if as_json:
        console.json_out({"payment": plain(p), "ledger": [plain(e) for e in ledger]})
        return
    console.fields([
        ("charge id", p.telegram_payment_charge_id), ("provider id", p.provider_payment_charge_id),
        ("user", p.user_id), ("amount", stars(p.amount)), ("bonus", stars(p.bonus)),
        ("currency", p.currency), ("status", p.status), ("paid", when(p.created_at)),
        ("refunded", when(p.refunded_at)), ("taken back", stars(p.reversed_stars)),
        ("shortfall", stars(p.shortfall)), ("note", p.note),
    ])  # fmt: skip
    console.table(
        ["time (UTC)", "kind", "amount", "balance", "key"],
        [(when(e.created_at), e.kind, stars(e.amount), signed(e.balance_delta), e.key)
         for e in ledger],
        title="ledger",
    )  # fmt: skip


async def _payment_and_ledger(
    rt: Runtime, charge_id: str
) -> tuple[PaymentRecord, list[LedgerEntryRecord]]:
    payment = await rt.store.payments.get(charge_id)
    entries = await rt.store.ledger.entries(user_id=payment.user_id, limit=1000)
    return payment, [e for e in reversed(entries) if e.key.endswith(f":{charge_id}")]


@app.command()
def refund(
    charge_id: ChargeArg,
    reason: Annotated[str, typer.Option(help="Why; kept on the payment and in the ledger.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Refund even if the Stars were spent (balance stops at 0)."),
    ] = False,
) -> None:
    """Return a payment's Stars through Telegram and take its credit back."""
    from trt.core import operations

    result = with_services(
        lambda s: operations.refund_payment(s, charge_id, reason=reason, force=force)
    )
    p = result.payment
    if not result.applied:
        console.warn(f"payment {charge_id} was refunded before: nothing moved")
        return
    console.success(
        f"refunded {stars(p.amount)} of payment {charge_id} to user {p.user_id}; "
        f"balance now {stars(result.balance)}"
    )
    if p.shortfall:
        console.warn(f"{stars(p.shortfall)} had been spent and could not be taken back")


@app.command()
def report(since: SinceOption = None, as_json: JsonFlag = False) -> None:
    """Stars in and out, and per model KIE credits quoted vs really charged, and the margin."""
    from trt.core.reports import money_report

    start = since or datetime(2000, 1, 1, tzinfo=UTC)
    data = with_runtime(lambda rt: money_report(rt.store, rt.settings, start))
    if as_json:
        console.json_out(plain(data))
        return
    _render_report(data)


@app.command()
def export(
    as_csv: CsvFlag = True,
    since: ExportSince = None,
    output: OutputOption = None,
) -> None:
    """Every payment (or those since a date) as CSV, oldest first, with a header row."""
    from trt.cli.exports import export_payments

    count = export_payments(since, output)
    if output is not None:
        console.success(f"wrote {count} payments to {output}")


def _bonus_parts(r: MoneyReport) -> str:
    c = r.credits
    parts = [("welcome", c.welcome), ("referral", c.referral), ("promo", c.promo),
             ("package", c.package), ("free", c.free)]  # fmt: skip
    return ", ".join(f"{name} {amount}" for name, amount in parts)


def _render_report(r: MoneyReport) -> None:
    console.fields([
        ("since", when(r.since)), ("payments", r.payments),
        ("Stars received", stars(r.stars_received)), ("Stars refunded", stars(r.stars_refunded)),
        ("Stars spent", stars(r.stars_spent)), ("KIE credits quoted", r.kie_credits),
        ("KIE credits real", r.real_credits),  # of the jobs KIE reported a figure for
        ("jobs unmeasured", r.unmeasured),  # KIE gave no figure: not in the real margins
        ("paid, net", stars(r.credits.paid)),  # top-ups less refunded ones
        ("given: grants", stars(r.credits.grants)),
        ("given: bonuses", stars(r.credits.bonuses) + " (" + _bonus_parts(r) + ")"),
        ("given: refunds", stars(r.credits.refunds)),  # generations refunded by support
    ])  # fmt: skip
    console.table(
        ["model", "jobs", "Stars", "credits quoted", "credits real", "real ÷ quote",
         "unmeasured", "revenue $", "quoted cost $", "real cost $", "real margin $",
         "real margin"],
        [_model_row(m) for m in r.models],
        title="per model (real: the jobs KIE reported credits for)",
    )  # fmt: skip
    for model, reason in sorted(r.cost_guard.items()):
        console.warn(f"cost guard tripped for {model}: {reason}")


def _model_row(m: ModelMargin) -> tuple[object, ...]:
    return (
        m.model_id, m.jobs, m.stars, m.kie_credits, _known(m.real_credits, m),
        _known(m.real_vs_quote, m), m.unmeasured, m.revenue_usd, m.cost_usd,
        _known(m.real_cost_usd, m), _known(m.real_margin_usd, m), _percent(m.real_margin),
    )  # fmt: skip


def _known(value: object, m: ModelMargin) -> object:
    """A real figure, or "-" for a model with no measured job (unknown, not zero)."""
    return value if m.measured and value is not None else "-"


def _percent(share: Decimal | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _row(p: PaymentRecord) -> tuple[object, ...]:
    return (
        p.telegram_payment_charge_id, p.user_id, stars(p.amount), stars(p.bonus), p.status,
        when(p.created_at), when(p.refunded_at),
    )  # fmt: skip
