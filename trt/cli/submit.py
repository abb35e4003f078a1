"""`trt submit`: one generation from the command line, priced, tracked and downloaded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trt.cli import console
from trt.cli.common import JsonFlag, split_assignments
from trt.errors import TrtError, UsageError

if TYPE_CHECKING:
    from trt.core.ports import KieApi
    from trt.core.schedule import PollSchedule
    from trt.core.submit import SubmitPlan
    from trt.kie.base import TaskRecord
    from trt.settings import Settings

_DOWNLOAD_TIMEOUT = 300.0


@dataclass(frozen=True)
class _Options:
    wait: bool
    timeout: float | None
    download: Path | None
    as_json: bool
    emulator_duration: float | None  # None: the real KIE


@dataclass
class _Outcome:
    params: dict[str, Any]
    task_id: str
    record: TaskRecord | None = None
    files: list[Path] = field(default_factory=list)
    error: TrtError | None = None


def submit(
    model: Annotated[str, typer.Argument(help="Model id, e.g. google/nano-banana-edit.")],
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="A parameter; repeat for more."),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option("--file", metavar="KEY=PATH", help="Upload a file for a media input."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the result, or print the task id.")
    ] = True,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Seconds to wait (default: the model's deadline).")
    ] = None,
    download: Annotated[
        Path | None, typer.Option(file_okay=False, help="Save the results in this folder.")
    ] = None,
    as_json: JsonFlag = False,
    emulator: Annotated[
        bool, typer.Option("--emulator", help="Use a throwaway in-process KIE emulator.")
    ] = False,
    emulator_duration: Annotated[
        float, typer.Option(min=0, help="Seconds an emulated task takes.")
    ] = 2.0,
) -> None:
    """Validate, price, submit and track one generation; print (and save) its results."""
    from trt.settings import KieMode, Purpose, load_settings

    if download is not None and not wait:
        raise UsageError("--download", "needs --wait: there is nothing to save yet")
    settings = load_settings()
    plan = _plan(model, split_assignments("--set", sets or []), files or [], settings)
    use_emulator = emulator or settings.kie_mode is KieMode.EMULATOR
    if not use_emulator:
        settings.require(Purpose.KIE)
    options = _Options(
        wait, timeout, download, as_json, emulator_duration if use_emulator else None
    )
    if not as_json:
        _line("model", plan.spec.id)
        _line("price", f"{plan.credits} credits = {plan.stars} ⭐")
    outcome = asyncio.run(_run(plan, options, settings))
    _render(plan, outcome, as_json=as_json)
    if outcome.error is not None:
        raise outcome.error


def _plan(
    model: str, sets: list[tuple[str, str]], files: list[str], settings: Settings
) -> SubmitPlan:
    from trt.catalog.paths import resolve_registry_dir
    from trt.catalog.pricing import Pricing
    from trt.catalog.registry import Registry
    from trt.core.submit import prepare

    spec = Registry.load(resolve_registry_dir()).get(model)
    paths = [(key, Path(value)) for key, value in split_assignments("--file", files)]
    return prepare(spec, sets, paths, Pricing.from_settings(settings))


async def _run(plan: SubmitPlan, options: _Options, settings: Settings) -> _Outcome:
    from trt.core.request import build_request, upload_media
    from trt.core.submit import TaskTimedOut, task_failed
    from trt.kie.states import TaskState

    async with _connect(settings, options.emulator_duration) as (kie, schedule):
        params = await upload_media(kie, plan.spec, plan.params, plan.media)
        for item in plan.files:
            console.info(f"uploaded {item.key}: {item.path.name}")
        request = build_request(plan.spec, params)
        outcome = _Outcome(params, await kie.create_task(request))
        console.info(f"submitted task {outcome.task_id}")
        if not options.wait:
            return outcome
        try:
            outcome.record = await _track(kie, plan, outcome.task_id, options, schedule)
        except TaskTimedOut as exc:
            outcome.record, outcome.error = exc.record, exc
            return outcome
        if outcome.record.state is not TaskState.SUCCESS:
            outcome.error = task_failed(outcome.record)
        elif options.download is not None:
            outcome.files = await _download(outcome.record.result_urls, options.download)
        return outcome


async def _track(
    kie: KieApi, plan: SubmitPlan, task_id: str, options: _Options, schedule: PollSchedule
) -> TaskRecord:
    from trt.core.submit import wait_for_task
    from trt.domain import KieTaskId

    max_wait = options.timeout if options.timeout is not None else plan.spec.deadline_seconds
    with console.status(f"task {task_id}: submitted") as live:

        def show(record: TaskRecord, elapsed: float) -> None:
            live.update(f"task {task_id}: {record.state} ({elapsed:.0f} s)")

        return await wait_for_task(
            kie,
            plan.spec.family,
            KieTaskId(task_id),
            max_wait=max_wait,
            schedule=schedule,
            on_update=show,
        )


@contextlib.asynccontextmanager
async def _connect(
    settings: Settings, emulator_duration: float | None
) -> AsyncIterator[tuple[KieApi, PollSchedule]]:
    """The real KIE, or an in-process emulator whose tasks take `emulator_duration` s."""
    from trt.core.schedule import PollSchedule
    from trt.core.submit import KIE_POLLING
    from trt.runtime import open_emulated_kie, open_kie

    if emulator_duration is None:
        async with open_kie(settings) as kie:  # the key is there: require(Purpose.KIE)
            yield kie, KIE_POLLING
        return
    d = emulator_duration
    async with open_emulated_kie(d) as emulated:
        yield emulated, PollSchedule.every(max(d / 10, 0.01))


async def _download(urls: tuple[str, ...], folder: Path) -> list[Path]:
    from trt.core.submit import download_results

    return await download_results(urls, folder, _fetch)


async def _fetch(url: str) -> bytes:
    """Result files live on KIE's file hosts, not the API: fetched without the API key.

    Plain urllib in a thread keeps httpx inside trt/kie, as DESIGN.md asks.
    """
    import urllib.error
    import urllib.request

    from trt.core.submit import DownloadFailed

    if not url.startswith(("http://", "https://")):
        raise DownloadFailed(url, "not an http(s) URL")

    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as answer:
            return bytes(answer.read())

    try:
        return await asyncio.to_thread(get)
    except urllib.error.HTTPError as exc:
        raise DownloadFailed(url, f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadFailed(url, str(getattr(exc, "reason", exc))) from None


def _render(plan: SubmitPlan, outcome: _Outcome, *, as_json: bool) -> None:
    record = outcome.record
    if as_json:
        console.json_out(_as_json(plan, outcome))
        return
    _line("task", outcome.task_id)
    if record is None:
        return
    _line("state", record.state)
    for url in record.result_urls:
        _line("result", url)
    for path in outcome.files:
        _line("saved", str(path))


def _as_json(plan: SubmitPlan, outcome: _Outcome) -> dict[str, Any]:
    record = outcome.record
    return {
        "model": plan.spec.id,
        "params": outcome.params,
        "credits": str(plan.credits),
        "stars": plan.stars,
        "task_id": outcome.task_id,
        "state": str(record.state) if record else "submitted",
        "result_urls": list(record.result_urls) if record else [],
        "files": [str(p) for p in outcome.files],
        "fail_code": record.fail_code if record else None,
        "fail_message": record.fail_message if record else None,
    }


def _line(name: str, value: str) -> None:
    console.line(f"{name:<8}{value}")
