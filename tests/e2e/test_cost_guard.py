"""The cost guard end to end: KIE (the emulator) charges three times the quote for a model,
its completion callbacks say so, and `trt serve` records it, alerts the admins once and
asks for the model to be disabled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, USER, child_settings, job_reaches, serving
from tests.e2e.test_operator_log import events, logged
from trt.catalog.paths import default_registry_dir
from trt.catalog.registry import Registry
from trt.domain import CreditSource, JobState, LedgerKind
from trt.errors import ModelDisabled
from trt.runtime import open_services
from trt.sandbox.kie.emulation import Schedule
from trt.sandbox.kie.emulator import run_emulator
from trt.sandbox.kie.pricing import registry_pricer
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import Settings

MODEL = "google/nano-banana"  # quoted 4 credits, sold for 3 ⭐


@pytest.fixture
async def overcharging() -> Any:
    registry = Registry.load(default_registry_dir())
    async with (
        run_telegram_emulator(flood_limits=False) as tg,
        run_emulator(
            rate_limit=None, schedule=Schedule(0.05, 0.1, 0.2), price=registry_pricer(registry),
            overcharge={MODEL: Decimal(3)},
        ) as kie,
    ):  # fmt: skip
        tg.user(USER, language_code="en")
        tg.user(ADMIN, language_code="en")
        yield tg, kie


class TestCostGuardEndToEnd:
    async def test_callbacks_above_the_quote_trip_it_once(
        self, database_url: str, overcharging: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Three jobs at 12 real credits against 4 quoted: each keeps both figures (from
        the callback), and the third alerts the admins once and disables the model."""
        tg, kie = overcharging
        settings = Settings(
            _env_file=None,
            **child_settings(
                database_url, tg, kie, cost_guard_jobs=3, cost_guard_auto_disable=True
            ),
        )
        async with serving(settings), open_services(settings) as services:
            store, gen = services.store, services.generation
            await store.users.ensure(USER, language="en")
            await store.ledger.credit(USER, 100, kind=LedgerKind.TOPUP, key="topup:s", reason="")
            jobs = []
            for _ in range(3):
                job = await gen.start(USER, gen.quote(MODEL, {"prompt": "a cat"}), chat_id=USER)
                await job_reaches(store, job.id, JobState.DELIVERED, within=10)
                jobs.append(await store.jobs.get(job.id))
            await logged(caplog, "operator_action")  # the disable, audited
            await gen.controls.refresh()
            with pytest.raises(ModelDisabled):
                gen.quote(MODEL, {"prompt": "a cat"})
            alerts = [
                m.text for m in tg.chat(ADMIN).bot_messages() if "Cost guard" in (m.text or "")
            ]
        assert {(j.kie_credits, j.real_credits, j.credits_source) for j in jobs} == {
            (4.0, 12.0, CreditSource.CALLBACK)
        }
        assert alerts == [
            f"⚠️ Cost guard: {MODEL} — real cost $0.1800 exceeds revenue $0.1170 over its last 3 "
            "jobs (quoted 12 credits, KIE charged 36); it was disabled"
        ]
        assert len(events(caplog, "cost_guard_tripped")) == 1
