"""The Telegram update inbox: an update is recorded before Telegram gets its 200, claimed
by one worker when it starts (with a lease the worker renews), and marked processed after
the bot handled it.

- Dedupe: an update is the pair (update_id, digest of its payload). A retried delivery
  repeats both and is a duplicate; Telegram's random id restart and an emulator's restart
  at 1 bring new payloads under old ids, which are new updates. Rows are pruned after
  `DEDUPE_WINDOW`, longer than Telegram keeps an unacknowledged update (24 h).
- Order: a claim is refused while an earlier update of the same sender is unprocessed, so
  one user's updates run one at a time in update_id order, across instances too.
- Recovery: an update nobody claimed within the grace, or whose lease lapsed (its worker
  died), is `stranded`; any instance may claim it.
- Bad bytes: strings a column cannot hold (a lone surrogate, NUL) are replaced before
  writing (`storable`), so one odd update never fails the batch it arrives in.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, or_, select, update

from trt.errors import DatabaseUnavailable
from trt.records import Arrival, Claim, Outcome, Pending, Visit, VisitQuery
from trt.store.dialect import insert_ignoring
from trt.store.engine import Database
from trt.store.tables import telegram_updates as inbox
from trt.store.text import storable
from trt.store.visits import arrive_in

logger = logging.getLogger(__name__)

# Processed rows are kept this long to recognise a retried delivery (Telegram retries an
# unacknowledged update for up to 24 hours; twice that leaves room for clock skew and a
# backlog). A longer memory would only risk taking a new update for an old one.
DEDUPE_WINDOW = timedelta(hours=48)


def digest_of(payload: dict[str, Any]) -> str:
    """The same for the same update's every delivery (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


_earlier = inbox.alias("earlier")
# An unprocessed update of the same sender before this row (by update_id, then arrival):
# built once, since it names no value, only columns.
_EARLIER_WAITING = exists().where(
    _earlier.c.user_id == inbox.c.user_id,
    _earlier.c.processed_at.is_(None),
    or_(
        _earlier.c.update_id < inbox.c.update_id,
        and_(_earlier.c.update_id == inbox.c.update_id, _earlier.c.seq < inbox.c.seq),
    ),
)


class SqlInbox:
    def __init__(self, db: Database) -> None:
        self._db = db
        insert = insert_ignoring(db.dialect, inbox, key=("update_id", "digest"))
        self._insert = insert.returning(inbox.c.seq, inbox.c.update_id, inbox.c.digest)

    async def record_many(
        self, arrivals: Sequence[Arrival], *, claim: Claim | None = None
    ) -> list[Outcome]:
        """Store a batch; for each arrival in order: its row when new, None for a duplicate,
        or the error that kept it out (the others are stored all the same).

        With `claim`, the new arrivals marked `start` are claimed in the same transaction
        (as `claim` would, per-sender order included); their rows carry the payload.
        Raises: DatabaseUnavailable (nothing was stored).
        """
        rows = [_row(a) for a in arrivals]
        starting = {_key(row): a.visit for row, a in zip(rows, arrivals, strict=True) if a.start}
        try:
            return await self._record(rows, starting, claim)
        except DatabaseUnavailable:
            raise
        except Exception:  # one row the database refuses: store the others one by one
            logger.warning("an inbox batch of %d failed; storing one by one", len(rows))
        outcomes: list[Outcome] = []
        for row in rows:
            try:
                outcomes.extend(await self._record([row], starting, claim))
            except DatabaseUnavailable:
                raise
            except Exception as exc:
                logger.error("update %s could not be stored: %s", row["update_id"], exc)
                outcomes.append(exc)
        return outcomes

    async def _record(
        self,
        rows: list[dict[str, Any]],
        starting: dict[tuple[int, str], VisitQuery | None],
        claim: Claim | None,
    ) -> list[Outcome]:
        unique: dict[tuple[int, str], dict[str, Any]] = {}
        for row in rows:
            unique.setdefault(_key(row), row)
        # In key order, so two instances' overlapping batches lock rows in one order. One
        # statement for the whole batch: a statement costs a round trip to Postgres, a row
        # in it next to nothing.
        ordered = [unique[key] for key in sorted(unique)]

        def store(conn: Connection) -> tuple[list[Any], dict[int, Visit | None]]:
            inserted = list(conn.execute(self._insert, ordered))
            to_claim = [seq for seq, *key in inserted if tuple(key) in starting]
            claimed = _claim_new(conn, to_claim, claim) if claim and to_claim else set()
            asked = {seq: starting[update_id, digest] for seq, update_id, digest in inserted
                     if seq in claimed}  # fmt: skip
            return inserted, _visits(conn, asked)

        inserted, claimed = await self._db.run(store)
        seen = {
            (update_id, digest): _pending(seq, unique[update_id, digest], claimed)
            for seq, update_id, digest in inserted
        }
        outcomes: list[Outcome] = []
        first: set[tuple[int, str]] = set()
        for row in rows:  # a repeat, even within the batch, is a duplicate
            key = (row["update_id"], row["digest"])
            new = key in seen and key not in first
            outcomes.append(seen[key] if new else None)
            first.add(key)
        return outcomes

    async def claim(self, seq: int, *, owner: str, lease: timedelta) -> dict[str, Any] | None:
        """The payload if `owner` may process the update now, else None: it is processed,
        another worker's lease holds it, or an earlier update of its sender is waiting."""
        now = datetime.now(UTC)
        params = {"row_seq": seq, "owner": owner, "now": now, "until": now + lease}
        payload: dict[str, Any] | None = await self._db.run(
            lambda conn: conn.execute(_CLAIM, params).scalar_one_or_none()
        )
        return payload

    async def renew(self, owner: str, *, lease: timedelta) -> int:
        """Extend every unprocessed claim of `owner`; how many it holds."""
        async with self._db.transaction(write_first=True) as conn:
            renewed = await conn.execute(
                update(inbox)
                .where(inbox.c.claimed_by == owner, inbox.c.processed_at.is_(None))
                .values(claimed_until=datetime.now(UTC) + lease)
            )
            return renewed.rowcount

    async def done(self, seq: int, *, owner: str) -> bool:
        """Mark processed; False when `owner` no longer held it (its lease had lapsed)."""
        params = {"row_seq": seq, "owner": owner, "now": datetime.now(UTC)}
        marked: int = await self._db.run(lambda conn: conn.execute(_DONE, params).rowcount)
        return marked == 1

    async def stranded(self, *, grace: timedelta, limit: int = 200) -> list[Pending]:
        """Unprocessed updates nobody holds: unclaimed for `grace` since they arrived (the
        instance that stored them died, or is too busy), or with a lapsed lease."""
        now = datetime.now(UTC)
        query = (
            select(inbox.c.seq, inbox.c.update_id, inbox.c.user_id)
            .where(inbox.c.processed_at.is_(None))
            .where(
                or_(
                    and_(inbox.c.claimed_until.is_(None), inbox.c.received_at < now - grace),
                    inbox.c.claimed_until < now,
                )
            )
            .order_by(inbox.c.update_id, inbox.c.seq)
            .limit(limit)
        )
        async with self._db.transaction(readonly=True) as conn:
            return [Pending(*row) for row in (await conn.execute(query)).all()]

    async def prune(self, *, older_than: timedelta = DEDUPE_WINDOW) -> int:
        """Delete processed updates received before `older_than` ago."""
        cutoff = datetime.now(UTC) - older_than
        async with self._db.transaction(write_first=True) as conn:
            result = await conn.execute(
                delete(inbox).where(
                    inbox.c.processed_at.is_not(None), inbox.c.received_at < cutoff
                )
            )
            return result.rowcount


def _claim_new_statement() -> Any:
    held = _earlier.c.claimed_by, _earlier.c.claimed_until
    not_held_here = or_(  # spelled out: claimed_by is NULL on an unclaimed row
        held[0].is_(None), held[0] != bindparam("owner"), held[1].is_(None),
        held[1] <= bindparam("now"),
    )  # fmt: skip
    return (
        update(inbox)
        .where(inbox.c.seq.in_(bindparam("seqs", expanding=True)))
        .where(~_EARLIER_WAITING.where(not_held_here))
        .values(claimed_by=bindparam("owner"), claimed_until=bindparam("until"))
        .returning(inbox.c.seq)
    )


# The update path's statements, built once (building one per update, and its cache key,
# cost more CPU than running it); their values are bound per call.
_CLAIM_NEW = _claim_new_statement()
_CLAIM = (
    update(inbox)
    .where(inbox.c.seq == bindparam("row_seq"), inbox.c.processed_at.is_(None))
    .where(or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < bindparam("now")))
    .where(~_EARLIER_WAITING)
    .values(claimed_by=bindparam("owner"), claimed_until=bindparam("until"))
    .returning(inbox.c.payload)
)
_DONE = (
    update(inbox)
    .where(inbox.c.seq == bindparam("row_seq"), inbox.c.claimed_by == bindparam("owner"))
    .values(processed_at=bindparam("now"), claimed_until=None)
)


def _claim_new(conn: Connection, seqs: list[int], claim: Claim) -> set[int]:
    """Claim just-stored rows for `claim.owner` (in the storing transaction: a worker that
    starts one at once then makes no claim of its own), unless an earlier update of their
    sender waits that is not the owner's: the owner's own run first in its worker line."""
    now = datetime.now(UTC)
    params = {"seqs": seqs, "owner": claim.owner, "now": now, "until": now + claim.lease}
    return set(conn.execute(_CLAIM_NEW, params).scalars())


def _visits(conn: Connection, asked: dict[int, VisitQuery | None]) -> dict[int, Visit | None]:
    """The visits the claimed arrivals asked for (read after the claim: it holds, so no
    other update of the sender runs first), in user order: two instances registering the
    same new users lock their rows in one order."""
    visits: dict[int, Visit | None] = dict.fromkeys(asked)
    for _, seq, query in sorted((q.user_id, seq, q) for seq, q in asked.items() if q):
        visits[seq] = arrive_in(conn, query)
    return visits


def _pending(seq: int, row: dict[str, Any], claimed: dict[int, Visit | None]) -> Pending:
    if seq not in claimed:
        return Pending(seq, row["update_id"], row["user_id"])
    return Pending(seq, row["update_id"], row["user_id"], row["payload"], claimed[seq])


def _key(row: dict[str, Any]) -> tuple[int, str]:
    return row["update_id"], row["digest"]


def _row(arrival: Arrival) -> dict[str, Any]:
    payload = storable(arrival.payload)
    return {
        "update_id": arrival.update_id, "digest": digest_of(payload),
        "user_id": arrival.user_id, "payload": payload, "received_at": datetime.now(UTC),
        "claimed_by": None, "claimed_until": None, "processed_at": None,
    }  # fmt: skip
