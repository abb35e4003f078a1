"""Operator controls as the pipeline obeys them: a disabled model sells nothing (running
jobs still deliver), a model's own markup is what is quoted and held, and a second
instance on the same database sees a change within CONTROLS_REFRESH_SECONDS."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import CHAT, USER, Rig, build
from tests.store.conftest import postgres_url, reset_schema
from trt.bot.catalog import Catalog, ref
from trt.catalog.registry import Registry
from trt.core.controls import parse_markup
from trt.core.supervisor import Supervisor
from trt.domain import JobState, KieTaskId, LedgerKind
from trt.errors import ModelDisabled, ModelNotFound, UsageError
from trt.kie.states import TaskState
from trt.store.engine import Database, create_database
from trt.store.sql import SqlStore

MODEL = "google/nano-banana"
REFRESH_SECONDS = 0.2


class TestParseMarkup:
    @pytest.mark.parametrize(("text", "value"), [("1.8", "1.8"), ("2,5", "2.5"), ("1", "1"),
                                                 ("10", "1E+1"), ("1.125", "1.125")])  # fmt: skip
    def test_accepted(self, text: str, value: str) -> None:
        """Numbers from 1 to 10 with up to 3 decimals, a comma as well as a point."""
        assert parse_markup(text) == Decimal(value)

    @pytest.mark.parametrize("text", ["0.9", "10.5", "abc", "nan", "inf", "1.2345", ""])
    def test_refused_naming_the_range(self, text: str) -> None:
        """Anything else is refused with the allowed range in the message."""
        with pytest.raises(UsageError, match="from 1 to 10"):
            parse_markup(text)


class TestDisabledModel:
    async def test_leaves_quotes_with_its_reason(self, rig: Rig) -> None:
        """A disabled model cannot be quoted; the refusal names the reason."""
        await rig.gen.controls.disable(MODEL, reason="KIE broken", actor="cli:ops")
        with pytest.raises(ModelDisabled, match="KIE broken"):
            rig.gen.quote(MODEL, {"prompt": "a cat"})

    async def test_a_form_filled_before_cannot_start(
        self, rig: Rig, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A quote taken before the model was disabled starts nothing: no Stars move,
        KIE is never called, one log line says who was refused and why."""
        quote = rig.gen.quote(MODEL, {"prompt": "a cat"})
        await rig.gen.controls.disable(MODEL, reason="margin", actor="cli:ops")
        with pytest.raises(ModelDisabled):
            await rig.gen.start(USER, quote, chat_id=CHAT)
        [line] = [r.getMessage() for r in caplog.records if "job_refused" in r.getMessage()]
        assert line == f'job_refused user_id={USER} model={MODEL} reason="model disabled: margin"'
        user = await rig.store.users.get(USER)
        assert (user.balance, user.held) == (100, 0)
        assert rig.kie.submitted == []

    async def test_a_running_job_still_delivers(self, rig: Rig) -> None:
        """Disabling stops new jobs only: one already running settles, is charged, delivers."""
        rig.kie.script(TaskState.SUCCESS)
        quote = rig.gen.quote(MODEL, {"prompt": "a cat"})
        job = await rig.gen.start(USER, quote, chat_id=CHAT)
        await rig.gen.controls.disable(MODEL, reason="margin", actor="cli:ops")
        await rig.gen.on_callback(KieTaskId(job.kie_task_id or ""))
        final = await rig.store.jobs.get(job.id)
        assert final.state is JobState.DELIVERED
        assert [j.id for j in rig.messenger.delivered] == [job.id]
        entries = await rig.store.ledger.entries(user_id=USER)
        assert [e.kind for e in entries].count(LedgerKind.CHARGE) == 1

    async def test_enable_sells_again(self, rig: Rig) -> None:
        """Enabled again, the model quotes as before."""
        await rig.gen.controls.disable(MODEL, reason="r", actor="cli:ops")
        await rig.gen.controls.enable(MODEL, reason=None, actor="cli:ops")
        assert rig.gen.quote(MODEL, {"prompt": "a cat"}).stars == 3

    async def test_unknown_ids_name_the_nearest(self, rig: Rig) -> None:
        """Disabling a mistyped id changes nothing and suggests the real ones."""
        with pytest.raises(ModelNotFound, match="google/nano-banana"):
            await rig.gen.controls.disable("google/nano-banan", reason="r", actor="cli:ops")
        assert await rig.store.controls.actions(limit=5) == []


class TestOwnMarkup:
    async def test_quote_and_hold_use_it(self, rig: Rig) -> None:
        """Markup 3 over 4 credits: ceil(4 × 0.005 × 3 / 0.013) = 5 Stars quoted and held."""
        await rig.gen.controls.set_markup(MODEL, Decimal(3), actor="cli:ops")
        quote = rig.gen.quote(MODEL, {"prompt": "a cat"})
        assert quote.stars == 5
        job = await rig.gen.start(USER, quote, chat_id=CHAT)
        assert job.price_stars == 5
        assert (await rig.store.users.get(USER)).held == 5

    async def test_reset_returns_to_the_global_markup(self, rig: Rig) -> None:
        """--reset: the global 1.5 again (3 Stars)."""
        await rig.gen.controls.set_markup(MODEL, Decimal(3), actor="cli:ops")
        await rig.gen.controls.set_markup(MODEL, None, actor="cli:ops")
        assert rig.gen.quote(MODEL, {"prompt": "a cat"}).stars == 3

    async def test_the_catalogue_shows_the_price_charged(self, rig: Rig) -> None:
        """The bot's price range follows the markup at once (no stale cache)."""
        catalog = Catalog(rig.gen.registry, rig.gen.pricing, rig.gen.controls)
        spec = rig.gen.registry.get(MODEL)
        assert catalog.price_range(spec)[0] == 3
        await rig.gen.controls.set_markup(MODEL, Decimal(3), actor="cli:ops")
        assert catalog.price_range(spec)[0] == rig.gen.quote(MODEL, {"prompt": "x"}).stars == 5

    async def test_changes_are_audited(self, rig: Rig) -> None:
        """Each change is one audit row naming the actor, the model and the values."""
        await rig.gen.controls.set_markup(MODEL, Decimal("1.8"), actor="tg:9", reason="promo")
        [row] = await rig.store.controls.actions(limit=5)
        assert (row.actor, row.action, row.subject, row.reason) == (
            "tg:9", "model.markup", MODEL, "promo",
        )  # fmt: skip
        assert row.detail == {"markup": "1.8", "was": "global"}


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database two instances share: a SQLite file, or Postgres."""
    url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    if request.param == "postgres":
        url = postgres_url()
    db: Database = create_database(url, must_exist=False)
    await reset_schema(db)
    await db.dispose()
    yield url


async def wait_until(check: Callable[[], bool], *, deadline: float) -> float:
    """Seconds until `check()` held; fails past `deadline` seconds."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > deadline:
            pytest.fail(f"not seen within {deadline} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


class TestSecondInstance:
    async def test_a_disabled_model_leaves_the_other_catalogue(
        self, shared_url: str, registry: Registry
    ) -> None:
        """Disabled through instance A, the model leaves instance B's catalogue and quotes
        within B's refresh period (plus a read), with no restart."""
        a_db, b_db = create_database(shared_url), create_database(shared_url)
        a, b = build(SqlStore(a_db), registry), build(SqlStore(b_db), registry)
        catalog = Catalog(registry, b.gen.pricing, b.gen.controls)
        await b.gen.controls.refresh()
        assert catalog.by_ref(ref(MODEL)) is not None
        supervisor = Supervisor()
        supervisor.every("controls refresh", b.gen.controls.refresh, interval=REFRESH_SECONDS)
        try:
            await a.gen.controls.disable(MODEL, reason="KIE broken", actor="cli:ops")
            took = await wait_until(
                lambda: catalog.by_ref(ref(MODEL)) is None, deadline=REFRESH_SECONDS + 2
            )
        finally:
            await supervisor.stop()
            await a_db.dispose()
            await b_db.dispose()
        assert took <= REFRESH_SECONDS + 2
        assert all(MODEL not in [s.id for s in specs] for specs in catalog.categories().values())
        with pytest.raises(ModelDisabled):
            b.gen.quote(MODEL, {"prompt": "x"})
