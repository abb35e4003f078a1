"""One read per update (`SqlVisits.arrive`): the user, their form and today's free count."""

from __future__ import annotations

from datetime import date

from trt.domain import LedgerKind, TgUserId
from trt.store import fsm
from trt.store.allowance import free_key_prefix
from trt.store.base import Profile
from trt.store.fsm import FormRow
from trt.store.sql import SqlStore

ANN = TgUserId(41)
DAY = date(2026, 11, 29)
FORM = "1:41:41::::default"


async def arrive(store: SqlStore, free_day: date | None = DAY):
    return await store.visits.arrive(
        ANN, Profile("ann", "Ann", "en"), form_key=FORM, free_day=free_day
    )


class TestArrive:
    async def test_a_first_contact_registers_the_user(self, store: SqlStore) -> None:
        """New: created from the profile with no Stars; the next visit finds them."""
        first = await arrive(store)
        assert (first.created, first.user.first_name, first.user.balance) == (True, "Ann", 0)
        assert (first.form, first.free_used) == (None, 0)
        again = await arrive(store)
        assert (again.created, again.user.id) == (False, ANN)

    async def test_the_form_and_the_free_count_come_with_the_user(self, store: SqlStore):
        """The FSM row under the key, and the free generations of that day only."""
        await arrive(store)
        await fsm.save(store.db, FORM, FormRow("Flow:asking", {"model": "m"}))
        for n, day in ((1, DAY), (2, DAY), (1, date(2026, 11, 28))):
            await store.ledger.credit(
                ANN, 3, kind=LedgerKind.BONUS, key=f"{free_key_prefix(ANN, day)}{n}", reason="free"
            )
        visit = await arrive(store)
        assert visit.form == FormRow("Flow:asking", {"model": "m"})
        assert (visit.free_used, visit.user.balance) == (2, 9)
        assert (await arrive(store, free_day=None)).free_used == 0  # free tier off: no count

    async def test_another_keys_form_is_not_theirs(self, store: SqlStore) -> None:
        await arrive(store)
        await fsm.save(store.db, "1:42:42::::default", FormRow("Flow:asking", {}))
        assert (await arrive(store)).form is None
