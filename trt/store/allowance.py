"""The bot's daily free generations, counted from the ledger itself.

A free generation is a BONUS credit of exactly the job's price under the key
`bonus:free:<user>:<YYYY-MM-DD>:<n>`, made in the transaction that opens the job, right
before the hold (`SqlPipeline.open_job`), so the ledger invariant holds and the n-th free
generation of a day can be credited only once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BindParameter, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from trt.domain import TgUserId
from trt.store.engine import Database
from trt.store.tables import ledger_entries


def free_key_prefix(user_id: TgUserId, day: date) -> str:
    return f"bonus:free:{user_id}:{day.isoformat()}:"


async def free_used(db: Database, user_id: TgUserId, day: date) -> int:
    """How many free generations the user has had on `day` (UTC)."""
    async with db.transaction(readonly=True) as conn:
        return await free_used_in(conn, user_id, day)


async def free_used_in(conn: AsyncConnection, user_id: TgUserId, day: date) -> int:
    counted = free_count(user_id, free_pattern(user_id, day))
    return int((await conn.execute(counted)).scalar_one())


def free_pattern(user_id: TgUserId, day: date) -> str:
    """The LIKE pattern of the user's free-generation keys on `day`."""
    return free_key_prefix(user_id, day) + "%"


def free_count(
    user_id: TgUserId | BindParameter[Any], pattern: str | BindParameter[Any]
) -> Select[Any]:
    """The count of the user's free generations whose keys match `pattern`, as a query
    (also a subquery of the visit read, which then answers it in the same round trip)."""
    return (
        select(func.count())
        .select_from(ledger_entries)
        .where(ledger_entries.c.user_id == user_id)
        .where(ledger_entries.c.key.like(pattern))
    )
