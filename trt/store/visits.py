"""What the bot needs about a user before it answers them, read in one statement.

Every update needs the user's record (created on first contact) and their form (the FSM
row). One joined SELECT answers both; separate reads cost a round trip each, and round
trips are most of a reply's latency.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

from trt.domain import TgUserId
from trt.records import FormRow, FreeUse, Profile, Visit, VisitQuery
from trt.store.allowance import free_count, free_pattern
from trt.store.engine import Database
from trt.store.tables import fsm_states, users
from trt.store.users import first_contact, names, new_user, rename, renamed, user_from


class SqlVisits:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def arrive(
        self, user_id: TgUserId, profile: Profile, *, form_key: str, day: date
    ) -> Visit:
        """The user (created if new, with their free generations on `day`) and their form."""
        query = VisitQuery(user_id, profile, form_key, day)
        # Nearly every update comes from a known user Telegram names as before: look without
        # the write lock first; a first contact or a rename (rare) takes a write.
        visit = await self._db.run(partial(_read, query), readonly=True, one_statement=True)
        if visit is not None and not renamed(visit.user, profile):
            return visit
        return await self._db.run(partial(arrive_in, query=query))


def arrive_in(conn: Connection, query: VisitQuery) -> Visit:
    """`SqlVisits.arrive` inside a write transaction (its own, or the inbox's as it claims
    the update): the user registered on first contact, their names kept current with what
    Telegram shows (support searches by them)."""
    visit = _read(query, conn)
    if visit is None:
        # A concurrent first contact may insert the same user; the loser just reads it.
        row = new_user(query.user_id, query.profile)
        inserted = conn.execute(first_contact(conn.dialect.name), row)
        visit = _read(query, conn, created=inserted.rowcount == 1)
        assert visit is not None
        return visit
    if renamed(visit.user, query.profile):
        conn.execute(rename(visit.user.id, query.profile))
        return _renamed(visit, query.profile)
    return visit


def _renamed(visit: Visit, profile: Profile) -> Visit:
    stored = names(profile)
    user = replace(visit.user, username=stored["username"], first_name=stored["first_name"])
    return replace(visit, user=user)


def _statement() -> Select[Any]:
    """The read, built once: its parameters are bound per visit (building the expression
    and its cache key per update cost more CPU than the statement's own run)."""
    form = fsm_states.c
    free_used = free_count(bindparam("user_id"), bindparam("free_pattern"))
    return (
        select(
            users,
            form.key.label("form_key"),
            form.state.label("form_state"),
            form.data.label("form_data"),
            free_used.scalar_subquery().label("free_used"),
        )  # fmt: skip
        .select_from(users.outerjoin(fsm_states, form.key == bindparam("form_key")))
        .where(users.c.id == bindparam("user_id"))
    )


_VISIT = _statement()


def _read(query: VisitQuery, conn: Connection, created: bool = False) -> Visit | None:
    user_id, form_key, day = query.user_id, query.form_key, query.day
    params = {"user_id": user_id, "form_key": form_key, "free_pattern": free_pattern(user_id, day)}
    found = conn.execute(_VISIT, params).mappings().first()
    if found is None:
        return None
    values = dict(found)
    found_form = values.pop("form_key") is not None
    state, data = values.pop("form_state"), values.pop("form_data")
    form = FormRow(state, dict(data or {})) if found_form else None
    used = FreeUse(day, int(values.pop("free_used")))
    user = replace(user_from(values), free_used=used)
    return Visit(user=user, created=created, form=form, form_key=form_key)
