from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.cli.conftest import ALICE, BOB, served_in_thread
from tests.conftest import CliInvoke
from tests.store.conftest import postgres_url
from trt.domain import CreditSource, EventSource, JobId, JobState, LedgerKind
from trt.records import NewJob, NewPayment
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import Payment
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.settings import DEFAULT_DATABASE_URL
from trt.store.sql import open_store


async def _pay(*payments: NewPayment) -> None:
    async with open_store(DEFAULT_DATABASE_URL) as store:
        for new in payments:
            await store.payments.record(new)


async def _spend(amount: int) -> None:
    async with open_store(DEFAULT_DATABASE_URL) as store:
        await store.ledger.hold(ALICE, JobId("J-SPEND"), amount)


@pytest.fixture
def paid(trt: CliInvoke, seeded) -> None:
    """Alice paid 50 ⭐ (she has 88 ⭐ from before); Bob paid 250 ⭐ with a 12 ⭐ bonus."""
    asyncio.run(_pay(
        NewPayment("ch-a", "p-a", ALICE, 50, "XTR", "t1:a"),
        NewPayment("ch-b", "p-b", BOB, 250, "XTR", "t1:b", bonus=12),
    ))  # fmt: skip


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramEmulator]:
    """The Telegram emulator on its own thread (the CLI runs its own event loop), knowing
    the charges `paid` made, with the CLI pointed at it."""
    with served_in_thread(lambda: run_telegram_emulator(flood_limits=False)) as emu:
        emu.payments["ch-a"] = Payment("q1", ALICE, True, charge_id="ch-a", total_amount=50)
        emu.payments["ch-b"] = Payment("q2", BOB, True, charge_id="ch-b", total_amount=250)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", emu.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", emu.base_url)
        monkeypatch.setenv("KIE_MODE", "emulator")
        yield emu


def balance(trt: CliInvoke, user: int) -> int:
    data = json.loads(trt("users", "show", str(user), "--json").stdout)
    return int(data["user"]["balance"])


class TestList:
    def test_lists_newest_first(self, trt: CliInvoke, paid) -> None:
        """Payments are listed newest first with amount, bonus and status."""
        data = json.loads(trt("payments", "list", "--json").stdout)["payments"]
        assert [(p["telegram_payment_charge_id"], p["amount"], p["bonus"], p["status"])
                for p in data] == [("ch-b", 250, 12, "paid"), ("ch-a", 50, 0, "paid")]  # fmt: skip

    def test_filters_by_user(self, trt: CliInvoke, paid) -> None:
        """--user keeps one user's payments."""
        result = trt("payments", "list", "--user", str(ALICE))
        assert result.exit_code == 0, result.output
        assert "ch-a" in result.output and "ch-b" not in result.output

    def test_since_in_the_future_finds_nothing(self, trt: CliInvoke, paid) -> None:
        """--since excludes older payments."""
        result = trt("payments", "list", "--since", "2999-01-01")
        assert "no payments match" in result.output


class TestShow:
    def test_shows_the_payment_and_its_ledger_rows(self, trt: CliInvoke, paid) -> None:
        """A payment's page lists its top-up and bonus ledger rows."""
        data = json.loads(trt("payments", "show", "ch-b", "--json").stdout)
        assert data["payment"]["status"] == "paid"
        assert [e["key"] for e in data["ledger"]] == ["topup:ch-b", "bonus:topup:ch-b"]

    def test_unknown_charge_exits_3(self, trt: CliInvoke, paid) -> None:
        """An unknown charge id is not found."""
        result = trt("payments", "show", "nope")
        assert (result.exit_code, "payment not found: nope" in result.output) == (3, True)


class TestRefund:
    def test_refund_returns_the_stars_and_takes_the_credit_back(
        self, trt: CliInvoke, paid, telegram: TelegramEmulator
    ) -> None:
        """Telegram refunds the charge and the balance loses amount and bonus, once."""
        result = trt("payments", "refund", "ch-b", "--reason", "asked")
        assert result.exit_code == 0, result.output
        assert "refunded 250 ⭐ of payment ch-b to user 222; balance now 0 ⭐" in result.output
        assert telegram.payments["ch-b"].refunded is True
        again = trt("payments", "refund", "ch-b", "--reason", "asked")  # as jobs refund does
        assert (again.exit_code, "refunded before: nothing moved" in again.output) == (0, True)
        assert len(telegram.calls_to("refundStarPayment")) == 1  # Telegram asked once
        assert balance(trt, BOB) == 0

    def test_refunds_tell_the_user_in_their_language(
        self, trt: CliInvoke, seeded, paid, telegram: TelegramEmulator
    ) -> None:
        """A payment refund (Bob: en, Alice: ru) and a job refund (Alice) each reach the
        user's chat, in their language."""
        telegram.user(ALICE, language_code="ru")
        telegram.user(BOB, language_code="en")
        assert trt("payments", "refund", "ch-b", "--reason", "asked").exit_code == 0
        assert telegram.chat(BOB).last().text == (
            "↩️ Payment ch-b was refunded: Telegram returned 250 ⭐ to you. Balance: 0 ⭐"
        )
        assert trt("payments", "refund", "ch-a", "--reason", "asked").exit_code == 0
        assert telegram.chat(ALICE).last().text == (
            "↩️ Платёж ch-a возвращён: Telegram вернул вам 50 ⭐. Баланс: 88 ⭐"
        )
        assert trt("jobs", "refund", seeded["done"], "--reason", "blurry").exit_code == 0
        assert telegram.chat(ALICE).last().text == (
            "↩️ Поддержка вернула 12 ⭐ за вашу генерацию (Nano Banana). Баланс: 100 ⭐"
        )

    def test_spent_stars_refuse_without_force(
        self, trt: CliInvoke, paid, telegram: TelegramEmulator
    ) -> None:
        """When the Stars were spent the refund is refused and Telegram is not called."""
        asyncio.run(_spend(120))
        result = trt("payments", "refund", "ch-a", "--reason", "asked")
        assert (result.exit_code, "--force" in result.output) == (4, True)
        assert telegram.payments["ch-a"].refunded is False
        assert balance(trt, ALICE) == 18

    def test_force_stops_at_zero_and_records_the_shortfall(
        self, trt: CliInvoke, paid, telegram: TelegramEmulator
    ) -> None:
        """--force takes what the balance holds and records the rest as the shortfall."""
        asyncio.run(_spend(120))
        result = trt("payments", "refund", "ch-a", "--reason", "fraud", "--force")
        assert result.exit_code == 0, result.output
        assert "32 ⭐ had been spent" in result.output
        shown = json.loads(trt("payments", "show", "ch-a", "--json").stdout)["payment"]
        assert (shown["status"], shown["reversed_stars"], shown["shortfall"]) == (
            "refunded", 18, 32,
        )  # fmt: skip
        assert balance(trt, ALICE) == 0

    def test_unknown_charge_is_refused(self, trt: CliInvoke, paid, telegram) -> None:
        """Refunding a charge that was never recorded exits 3 and calls nobody."""
        result = trt("payments", "refund", "ch-zzz", "--reason", "x")
        assert (result.exit_code, "payment not found" in result.output) == (3, True)
        assert telegram.calls_to("refundStarPayment") == []

    def test_telegram_refusal_moves_nothing(
        self, trt: CliInvoke, paid, telegram: TelegramEmulator
    ) -> None:
        """When Telegram does not know the charge, the credit stays."""
        del telegram.payments["ch-a"]
        result = trt("payments", "refund", "ch-a", "--reason", "x")
        assert (result.exit_code, "CHARGE_NOT_FOUND" in result.output) == (69, True)
        assert balance(trt, ALICE) == 138

    def test_refund_needs_a_bot_token(self, trt: CliInvoke, paid, monkeypatch) -> None:
        """Without TELEGRAM_BOT_TOKEN the refund is refused naming the variable."""
        monkeypatch.setenv("KIE_MODE", "emulator")
        result = trt("payments", "refund", "ch-a", "--reason", "x")
        assert (result.exit_code, "TELEGRAM_BOT_TOKEN" in result.output) == (78, True)


class TestReport:
    def test_json_figures(self, trt: CliInvoke, paid) -> None:
        """The report counts both payments and the one charged generation."""
        data = json.loads(trt("payments", "report", "--json").stdout)
        assert (data["payments"], data["stars_received"], data["stars_refunded"]) == (2, 300, 0)
        assert data["stars_spent"] == 12
        # Paid Stars apart from given ones: Bob's 12 ⭐ package bonus was given, not paid.
        # (`seeded` topped up 160 ⭐ before.)
        assert (data["credits"]["paid"], data["credits"]["package"]) == (160 + 300, 12)
        assert [(m["model_id"], m["jobs"], m["stars"]) for m in data["models"]] == [
            ("google/nano-banana", 1, 12)
        ]
        # The seeded job has no figure from KIE: unmeasured, and its real margin unknown.
        (model,) = data["models"]
        assert (model["measured"], model["unmeasured"], model["real_margin"]) == (0, 1, None)

    def test_table(self, trt: CliInvoke, paid) -> None:
        """The human report names the totals and the model."""
        result = trt("payments", "report", "--since", "1d")
        assert result.exit_code == 0, result.output
        assert "Stars received      300 ⭐" in result.output
        assert "paid, net           460 ⭐" in result.output  # apart from what was given
        assert "given: bonuses      12 ⭐ (welcome 0, referral 0, promo 0, package 12" in (
            result.output
        )
        assert "jobs unmeasured     1\n" in result.output  # KIE gave no figure for it
        assert "google/nano-banana" in result.output


MODEL = "google/nano-banana"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def _measured_and_not(url: str) -> None:
    """Two nano-banana jobs at 3 ⭐ quoted 4 credits: KIE said one cost 12, the other
    nothing."""
    from tests.e2e.conftest import fresh_database

    await fresh_database(url)
    async with open_store(url) as store:
        await store.users.ensure(ALICE)
        await store.ledger.credit(ALICE, 10, kind=LedgerKind.GRANT, key="grant:r", reason="")
        for real, source in ((12.0, CreditSource.CALLBACK), (None, CreditSource.NONE)):
            job, _ = await store.pipeline.open_job(
                NewJob(ALICE, "google/nano-banana", "market", {}, 3, kie_credits=4.0),
                max_active=3,
            )
            for state in (JobState.SUBMITTING, JobState.SUBMITTED):
                await store.jobs.transition(job.id, state, source=EventSource.USER)
            await store.pipeline.succeed(
                job.id, result_urls=["u"], real_credits=real, credits_source=source,
                source=EventSource.CALLBACK, next_check_at=datetime.now(UTC),
            )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def measured_db(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'report.db'}"
    else:
        url = postgres_url()
    asyncio.run(_measured_and_not(url))
    return url


class TestRealCreditsReport:
    def test_quoted_vs_real_on_both_stores(self, trt: CliInvoke, measured_db: str) -> None:
        """The real figures cover the measured job only; the other counts as unmeasured."""
        result = trt("payments", "report", "--json", env={"DATABASE_URL": measured_db})
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        (model,) = data["models"]
        shown = {k: model[k] for k in (
            "jobs", "kie_credits", "measured", "unmeasured", "real_credits", "real_vs_quote",
            "real_cost_usd", "real_margin_usd", "real_margin",
        )}  # fmt: skip
        assert shown == {
            "jobs": 2, "kie_credits": "8", "measured": 1, "unmeasured": 1,
            "real_credits": "12", "real_vs_quote": "3.000", "real_cost_usd": "0.06",
            "real_margin_usd": "-0.02", "real_margin": "-0.538",
        }  # fmt: skip
        assert (data["real_credits"], data["unmeasured"]) == ("12", 1)
        assert data["cost_guard"] == {}

    def test_an_open_cost_guard_episode_is_named(self, trt: CliInvoke, measured_db: str) -> None:
        """A model the cost guard tripped on is named with why, in the table and JSON."""

        async def trip() -> None:
            async with open_store(measured_db) as store:
                await store.costs.trip(MODEL, detail="real cost above revenue", at=NOW)

        asyncio.run(trip())
        env = {"DATABASE_URL": measured_db}
        assert f"cost guard tripped for {MODEL}: real cost above revenue" in (
            trt("payments", "report", env=env).stderr
        )
        data = json.loads(trt("payments", "report", "--json", env=env).stdout)
        assert data["cost_guard"] == {MODEL: "real cost above revenue"}

    def test_the_table_marks_unknown_real_figures(self, trt: CliInvoke, tmp_path) -> None:
        """A model with no measured job shows "-", never a real cost of 0."""
        url = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
        asyncio.run(_unmeasured_only(url))
        result = trt("payments", "report", env={"DATABASE_URL": url, "COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        (row,) = [line for line in result.output.splitlines() if "nano-banana" in line]
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        assert cells[4:7] == ["-", "-", "1"]  # real credits, real ÷ quote, unmeasured
        assert cells[9:] == ["-", "-", "-"]  # real cost, real margin $ and %


async def _unmeasured_only(url: str) -> None:
    from tests.e2e.conftest import fresh_database

    await fresh_database(url)
    async with open_store(url) as store:
        await store.users.ensure(ALICE)
        await store.ledger.credit(ALICE, 10, kind=LedgerKind.GRANT, key="grant:r", reason="")
        job, _ = await store.pipeline.open_job(
            NewJob(ALICE, "google/nano-banana", "market", {}, 3, kie_credits=4.0), max_active=3
        )
        for state in (JobState.SUBMITTING, JobState.SUBMITTED):
            await store.jobs.transition(job.id, state, source=EventSource.USER)
        await store.pipeline.succeed(
            job.id, result_urls=["u"], real_credits=None, credits_source=CreditSource.NONE,
            source=EventSource.POLL, next_check_at=datetime.now(UTC),
        )  # fmt: skip
