"""What the bot needs about a user before it answers them, read in one statement.

Every update needs the user's record (created on first contact), their form (the FSM row)
and, while the free tier is on, how many free generations they had today. One joined
SELECT in one read transaction answers all three; separate reads cost a round trip each,
and round trips are most of a reply's latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, func, literal, select

from trt.domain import TgUserId
from trt.store.allowance import free_key_prefix
from trt.store.base import Profile, UserRecord
from trt.store.direct import DirectConnection, Prepared
from trt.store.engine import Database
from trt.store.fsm import FormRow
from trt.store.tables import fsm_states, ledger_entries, users
from trt.store.users import INSERT_NEW_USER, new_user, user_from


@dataclass(frozen=True, slots=True)
class Visit:
    user: UserRecord
    created: bool  # this update was the user's first contact
    form: FormRow | None  # the FSM row under `form_key`; None when there is none
    free_used: int  # free generations on `free_day`; 0 when no day was asked for

    @classmethod
    def first(cls, user: UserRecord) -> Visit:
        """The visit of a user whose record was created just now (by the inbox): no form
        and no ledger rows can exist yet, since both are written for registered users only."""
        return cls(user, created=True, form=None, free_used=0)


class SqlVisits:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def arrive(
        self, user_id: TgUserId, profile: Profile, *, form_key: str, free_day: date | None
    ) -> Visit:
        """The user (created if new), their form and free generations used on `free_day`."""
        # Nearly every update comes from a known user: look without the write lock first.
        async with self._db.direct(readonly=True, single=True) as conn:
            visit = await _read(conn, user_id, form_key, free_day, created=False)
        if visit is not None:
            return visit
        async with self._db.direct() as conn:
            # A concurrent first contact may insert the same user; the loser just reads it.
            inserted = await conn.run(INSERT_NEW_USER, new_user(user_id, profile))
            visit = await _read(conn, user_id, form_key, free_day, inserted == 1)
            assert visit is not None
            return visit


def _statement(count_free: bool) -> Select[Any]:
    """Built once: a statement object is cheap to run again, costly to build and key."""
    free_used: Any = literal(0)
    if count_free:
        free_used = (
            select(func.count())
            .select_from(ledger_entries)
            .where(ledger_entries.c.user_id == bindparam("user_id"))
            .where(ledger_entries.c.key.like(bindparam("free_keys")))
            .scalar_subquery()
        )
    form = fsm_states.c
    return (
        select(
            users,
            form.key.label("form_key"),
            form.state.label("form_state"),
            form.data.label("form_data"),
            free_used.label("free_used"),
        )  # fmt: skip
        .select_from(users.outerjoin(fsm_states, form.key == bindparam("form_key")))
        .where(users.c.id == bindparam("user_id"))
    )


_WITH_FREE, _WITHOUT_FREE = Prepared(_statement(True)), Prepared(_statement(False))


async def _read(
    conn: DirectConnection, user_id: TgUserId, form_key: str, day: date | None, created: bool
) -> Visit | None:
    params = {"user_id": user_id, "form_key": form_key}
    if day is not None:
        params["free_keys"] = free_key_prefix(user_id, day) + "%"
    found = await conn.rows(_WITHOUT_FREE if day is None else _WITH_FREE, params)
    if not found:
        return None
    values = found[0]
    found_form = values.pop("form_key") is not None
    state, data = values.pop("form_state"), values.pop("form_data")
    used = int(values.pop("free_used"))
    return Visit(
        user=user_from(values), created=created,
        form=FormRow(state, dict(data or {})) if found_form else None, free_used=used,
    )  # fmt: skip
