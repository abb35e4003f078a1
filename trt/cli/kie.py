"""`trt kie`: the KIE.ai account, and a local KIE emulator to develop and demo against."""

from __future__ import annotations

import asyncio
import signal
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from trt.cli import console

if TYPE_CHECKING:
    from trt.sandbox.kie.emulator import EmulatorOptions
    from trt.settings import Settings

app = typer.Typer(no_args_is_help=True, help="KIE.ai: account credits and a local emulator.")


class RequestFailure(StrEnum):
    SERVER_ERROR = "5xx"
    TIMEOUT = "timeout"


@app.command("credits")
def show_credits(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    emulator: Annotated[
        bool, typer.Option("--emulator", help="Ask a throwaway in-process emulator instead.")
    ] = False,
) -> None:
    """Show the KIE account's remaining credits (KIE_MODE=emulator asks the emulator)."""
    from trt.settings import KieMode, Purpose, load_settings  # pydantic: not at import time

    settings = load_settings()
    use_emulator = emulator or settings.kie_mode is KieMode.EMULATOR
    if not use_emulator:
        settings.require(Purpose.KIE)
    amount, source = asyncio.run(_ask_credits(settings, use_emulator=use_emulator))
    if as_json:
        console.json_out({"credits": _number(amount), "source": source})
    else:
        console.fields([("credits", _number(amount)), ("source", source)])


async def _ask_credits(settings: Settings, *, use_emulator: bool) -> tuple[Decimal, str]:
    from trt.runtime import open_emulated_kie, open_kie

    if use_emulator:
        async with open_emulated_kie() as emulated:
            return await emulated.credits(), "emulator"
    async with open_kie(settings) as kie:  # the key is there: require(Purpose.KIE) checked
        return await kie.credits(), settings.kie_base_url


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _check_overcharges(items: list[str] | None) -> list[str] | None:
    from trt.sandbox.kie.pricing import parse_overcharge

    for item in items or ():
        try:
            parse_overcharge(item)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return items


@app.command()
def emulate(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    duration: Annotated[
        float, typer.Option(min=0, help="Seconds from creation until a task finishes.")
    ] = 3.0,
    callback_delay: Annotated[
        float, typer.Option(min=0, help="Seconds between a task finishing and its callback.")
    ] = 0.0,
    fail_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of tasks that end in failure.")
    ] = 0.0,
    rate_limit: Annotated[
        int, typer.Option(min=0, help="Task creations allowed per 10 s; 0 turns it off.")
    ] = 20,
    credits: Annotated[int, typer.Option(min=0, help="Starting account credits.")] = 10_000,
    api_key: Annotated[
        str | None, typer.Option(help="Accept only this Bearer key (default: any key).")
    ] = None,
    drop_callbacks: Annotated[
        float, typer.Option(min=0, max=1, help="Share of tasks whose callbacks never come.")
    ] = 0.0,
    callback_copies: Annotated[
        int, typer.Option(min=1, max=100, help="Send each callback this many times.")
    ] = 1,
    fail_requests: Annotated[
        float, typer.Option(min=0, max=1, help="Share of API requests that fail.")
    ] = 0.0,
    fail_mode: Annotated[
        RequestFailure, typer.Option(help="How a failing request fails: HTTP 500 or no answer.")
    ] = RequestFailure.SERVER_ERROR,
    null_reads: Annotated[
        int, typer.Option(min=0, help='First recordInfo reads per task answered "null".')
    ] = 0,
    overcharge: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MODEL=FACTOR",
            callback=_check_overcharges,
            help="Bill this KIE model FACTOR × its quote (consumeCredits), to trip the cost "
            "guard; repeatable.",
        ),
    ] = None,
) -> None:
    """Run a KIE emulator until Ctrl-C; callbacks are signed when KIE_WEBHOOK_HMAC_KEY is set."""
    from trt.catalog.paths import resolve_registry_dir
    from trt.catalog.registry import Registry
    from trt.sandbox.kie.emulation import Schedule
    from trt.sandbox.kie.emulator import EmulatorOptions
    from trt.sandbox.kie.pricing import parse_overcharge, registry_pricer
    from trt.settings import load_settings

    hmac_key = load_settings().kie_webhook_hmac_key
    options = EmulatorOptions(
        api_key=api_key,
        hmac_key=hmac_key.get_secret_value() if hmac_key else None,
        schedule=Schedule(duration * 0.15, duration * 0.3, duration),
        fail_rate=fail_rate,
        callback_delay=callback_delay,
        rate_limit=rate_limit or None,
        credits=Decimal(credits),
        callback_drop_rate=drop_callbacks,
        callback_copies=callback_copies,
        request_fail_rate=fail_requests,
        request_fail_mode=fail_mode.value,
        null_record_reads=null_reads,
        price=registry_pricer(Registry.load(resolve_registry_dir())),
        overcharge=dict(parse_overcharge(item) for item in overcharge or ()),
    )
    try:
        asyncio.run(_serve(host, port, options))
    except KeyboardInterrupt:
        console.info("emulator stopped")


async def _serve(host: str, port: int, options: EmulatorOptions) -> None:
    from trt.sandbox.kie.emulator import run_emulator

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with run_emulator(host=host, port=port, options=options) as emu:
        console.line(f"KIE emulator listening on {emu.base_url} (Ctrl-C to stop)")
        await stop.wait()
