"""One read per update (`SqlVisits.arrive`): the user and their form."""

from __future__ import annotations

from datetime import date, timedelta

from trt.domain import LedgerKind, TgUserId
from trt.records import FormRow, FreeUse, Profile
from trt.store.allowance import free_key_prefix
from trt.store.sql import SqlStore

ANN = TgUserId(41)
FORM = "1:41:41::::default"


ANN_PROFILE = Profile("ann", "Ann", "en")
DAY = date(2026, 12, 7)


async def arrive(store: SqlStore, profile: Profile = ANN_PROFILE):
    return await store.visits.arrive(ANN, profile, form_key=FORM, day=DAY)


class TestArrive:
    async def test_a_first_contact_registers_the_user(self, store: SqlStore) -> None:
        """New: created from the profile with no Stars; the next visit finds them."""
        first = await arrive(store)
        assert (first.created, first.user.first_name, first.user.balance) == (True, "Ann", 0)
        assert first.form is None
        again = await arrive(store)
        assert (again.created, again.user.id) == (False, ANN)

    async def test_the_form_comes_with_the_user(self, store: SqlStore):
        """The FSM row under the key."""
        await arrive(store)
        await store.forms.save(FORM, FormRow("Flow:asking", {"model": "m"}))
        visit = await arrive(store)
        assert visit.form == FormRow("Flow:asking", {"model": "m"})

    async def test_the_days_free_generations_come_with_the_user(self, store: SqlStore) -> None:
        """Counted in the same read: credits under the day's free keys, not other days'."""
        assert (await arrive(store)).user.free_used == FreeUse(DAY, 0)
        for day, n in ((DAY, 1), (DAY, 2), (DAY - timedelta(days=1), 1)):
            key = f"{free_key_prefix(ANN, day)}{n}"
            await store.ledger.credit(ANN, 3, kind=LedgerKind.BONUS, key=key, reason="free")
        assert (await arrive(store)).user.free_used == FreeUse(DAY, 2)

    async def test_another_keys_form_is_not_theirs(self, store: SqlStore) -> None:
        await arrive(store)
        await store.forms.save("1:42:42::::default", FormRow("Flow:asking", {}))
        assert (await arrive(store)).form is None

    async def test_a_profile_the_columns_cannot_hold_is_stored_cut_and_cleaned(
        self, store: SqlStore
    ) -> None:
        """A first name past 128 characters is cut; a NUL or a lone surrogate becomes
        U+FFFD (Postgres refuses both): the user is registered all the same."""
        odd = Profile("a\x00b" * 30, "\ud800" + "x" * 200, "en-US-verylong")
        user = (await arrive(store, odd)).user
        assert user.first_name == "\ufffd" + "x" * 127
        assert user.username is not None and len(user.username) == 64
        assert "\x00" not in user.username
        assert user.language == "en-US-ve"
