"""What support needs of the store: users found by name, Stars taken back, bans with a
reason, exports read in batches. On SQLite and Postgres."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from trt.core import support
from trt.domain import JobState, LedgerKind, PaymentStatus, TgUserId, UserOrder
from trt.errors import InsufficientBalance, UserNotFound
from trt.records import NewJob, NewPayment, Profile
from trt.store.sql import SqlStore

ANN, BOB, MARIA = TgUserId(41), TgUserId(42), TgUserId(43)
DAY = datetime(2026, 12, 7, tzinfo=UTC).date()


async def people(store: SqlStore) -> None:
    await store.users.ensure(ANN, username="Ann_Lee", first_name="Ann")
    await store.users.ensure(BOB, username="bob", first_name="Robert")
    await store.visits.arrive(MARIA, Profile(None, "МАРИЯ", "ru"), form_key="f", day=DAY)


async def fund(store: SqlStore, user: TgUserId, stars: int) -> None:
    await store.ledger.credit(user, stars, kind=LedgerKind.TOPUP, key=f"topup:{user}", reason="")


class TestOverview:
    async def test_search_folds_case_in_any_script(self, store: SqlStore) -> None:
        """Usernames and first names match in any case, Cyrillic too, on both backends."""
        await people(store)
        assert [u.id for u in await _search(store, "ann_LEE")] == [ANN]
        assert [u.id for u in await _search(store, "мария")] == [MARIA]
        assert [u.id for u in await _search(store, "рия")] == [MARIA]
        assert [u.id for u in await _search(store, "robERT")] == [BOB]

    async def test_search_by_id_and_at_username(self, store: SqlStore) -> None:
        """A number finds that id; `@name` finds the username."""
        await people(store)
        assert [u.id for u in await _search(store, "42")] == [BOB]
        assert [u.id for u in await _search(store, "@bob")] == [BOB]

    async def test_like_wildcards_are_plain_text(self, store: SqlStore) -> None:
        """`%` and `_` are characters to find, not patterns: `_` finds only Ann_Lee."""
        await people(store)
        assert await _search(store, "%") == []
        assert [u.id for u in await _search(store, "_")] == [ANN]

    async def test_sorted_by_spent_less_refunds(self, store: SqlStore) -> None:
        """Spent is charges less refunds; the biggest spender comes first."""
        await people(store)
        for user, price in ((ANN, 5), (BOB, 9)):
            await fund(store, user, 20)
            job, _ = await store.pipeline.open_job(
                NewJob(user, "m", "market", {}, price), max_active=3
            )
            await store.ledger.charge(job.id)
        await store.ledger.refund(job.id, reason="bad result")  # Bob's 9 come back
        found = await store.users.overview(order=UserOrder.SPENT, limit=10)
        assert [(u.id, u.spent) for u in found] == [(ANN, 5), (BOB, 0), (MARIA, 0)]
        assert found[0].balance == 15

    async def test_sorted_by_joined_newest_first(self, store: SqlStore) -> None:
        """`joined` puts the newest user first, and the limit applies."""
        await people(store)
        found = await store.users.overview(order=UserOrder.JOINED, limit=2)
        assert [u.id for u in found] == [MARIA, BOB]


async def _search(store: SqlStore, text: str):
    return await store.users.overview(order=UserOrder.SPENT, limit=10, text=text)


class TestNamesStayCurrent:
    async def test_a_new_username_is_stored_and_found(self, store: SqlStore) -> None:
        """A visit under a new username updates the row and what search finds."""
        await store.visits.arrive(ANN, Profile("ann", "Ann", "en"), form_key="f", day=DAY)
        visit = await store.visits.arrive(
            ANN, Profile("annie", "Анна", "en"), form_key="f", day=DAY
        )
        assert (visit.user.username, visit.user.first_name) == ("annie", "Анна")
        assert (await store.users.get(ANN)).username == "annie"
        assert [u.id for u in await _search(store, "АННА")] == [ANN]
        assert await _search(store, "ann ann") == []

    async def test_the_same_names_write_nothing(self, store: SqlStore) -> None:
        """A visit with unchanged names leaves the row as it was (no write per update)."""
        await store.visits.arrive(ANN, Profile("ann", "Ann", "en"), form_key="f", day=DAY)
        before = await store.users.get(ANN)
        await store.visits.arrive(ANN, Profile("ann", "Ann", "ru"), form_key="f", day=DAY)
        assert await store.users.get(ANN) == before  # the language stays the user's choice


class TestDebit:
    async def test_debit_takes_stars_with_its_reason(self, store: SqlStore, caplog) -> None:
        """A ledger debit with the reason and who; one log line with the ids."""
        await people(store)
        await fund(store, ANN, 30)
        with caplog.at_level(logging.INFO, logger="trt.core.support"):
            result = await support.debit(
                store, ANN, 12, reason="double top-up", actor="cli:ops", op_id="t1"
            )
        assert (result.applied, result.balance) == (True, 18)
        entry = result.entry
        assert (entry.kind, entry.key, entry.balance_delta) == (LedgerKind.DEBIT, "debit:t1", -12)
        assert entry.reason == "double top-up (by cli:ops)"
        [line] = [r.getMessage() for r in caplog.records]
        assert line.startswith("stars_debited user_id=41 stars=12 key=debit:t1 balance=18")
        assert await store.ledger.invariant_violations() == []

    async def test_never_below_zero_and_names_the_balance(self, store: SqlStore) -> None:
        """More than the balance is refused whole, naming the balance; nothing moves."""
        await people(store)
        await fund(store, ANN, 7)
        with pytest.raises(InsufficientBalance, match="has 7 ⭐ available, 8 ⭐ needed"):
            await support.debit(store, ANN, 8, reason="x", actor="cli:ops")
        assert (await store.users.get(ANN)).balance == 7
        assert [e.kind for e in await store.ledger.entries(user_id=ANN)] == [LedgerKind.TOPUP]

    async def test_a_repeated_key_moves_nothing(self, store: SqlStore) -> None:
        """The same op id debits once; the repeat returns the first movement."""
        await people(store)
        await fund(store, ANN, 30)
        await support.debit(store, ANN, 10, reason="x", actor="cli:ops", op_id="k")
        again = await support.debit(store, ANN, 10, reason="x", actor="cli:ops", op_id="k")
        assert (again.applied, again.balance, again.entry.amount) == (False, 20, 10)

    async def test_concurrent_debits_never_overdraw(self, store: SqlStore) -> None:
        """40 debits of 1 ⭐ raced against 25 ⭐: exactly 25 pass, the balance stops at 0."""
        await people(store)
        await fund(store, ANN, 25)

        async def take(n: int) -> bool:
            try:
                await support.debit(store, ANN, 1, reason="race", actor="t", op_id=f"r{n}")
            except InsufficientBalance:
                return False
            return True

        taken = await asyncio.gather(*(take(n) for n in range(40)))
        assert sum(taken) == 25
        assert (await store.users.get(ANN)).balance == 0
        assert await store.ledger.invariant_violations() == []

    async def test_unknown_user(self, store: SqlStore) -> None:
        """A debit for nobody is UserNotFound, not a new row."""
        with pytest.raises(UserNotFound):
            await support.debit(store, TgUserId(999), 1, reason="x", actor="t")


class TestBan:
    async def test_ban_and_unban_record_why_who_and_when(self, store: SqlStore) -> None:
        """The row keeps the last change: banned or not, the reason, who, when."""
        await people(store)
        await store.forms.tell_banned(ANN)
        banned = await support.set_ban(store, ANN, banned=True, reason="fraud", actor="tg:9")
        assert (banned.is_banned, banned.ban_reason, banned.ban_changed_by) == (
            True, "fraud", "tg:9",
        )  # fmt: skip
        assert banned.ban_changed_at is not None
        assert not await store.forms.told_banned(ANN)  # the next ban is announced again
        lifted = await support.set_ban(store, ANN, banned=False, reason="appeal", actor="cli:x")
        assert (lifted.is_banned, lifted.ban_reason, lifted.ban_changed_by) == (
            False, "appeal", "cli:x",
        )  # fmt: skip


class TestExport:
    async def test_jobs_stream_oldest_first_past_a_batch(
        self, store: SqlStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """More rows than one batch, all of them, in creation order; `since` filters."""
        monkeypatch.setattr("trt.store.jobs.EXPORT_BATCH", 4)
        await people(store)
        await fund(store, ANN, 100)
        made = []
        for n in range(11):
            job, _ = await store.pipeline.open_job(
                NewJob(ANN, "m", "market", {}, 1, request_key=f"k{n}"), max_active=10_000
            )
            made.append(job.id)
        exported = [j async for j in store.jobs.export()]
        assert [j.id for j in exported] == made
        assert exported[0].state is JobState.HELD
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert [j async for j in store.jobs.export(since=later)] == []

    async def test_payments_stream_with_since(self, store: SqlStore) -> None:
        """Payments oldest first; none after a time in the future."""
        await people(store)
        for n in range(3):
            await store.payments.record(_payment(f"ch{n}", ANN))
        assert [p.telegram_payment_charge_id async for p in store.payments.export()] == [
            "ch0", "ch1", "ch2",
        ]  # fmt: skip
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert [p async for p in store.payments.export(since=later)] == []


def _payment(charge: str, user: TgUserId) -> NewPayment:
    return NewPayment(
        charge_id=charge, provider_charge_id=None, user_id=user, amount=50, currency="XTR",
        payload=f"p-{charge}", status=PaymentStatus.PAID,
    )  # fmt: skip
