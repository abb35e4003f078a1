"""The SQL store: one object bundling the repositories over one database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from trt.store.engine import Database, create_database
from trt.store.inbox import SqlInbox
from trt.store.jobs import SqlJobs
from trt.store.ledger import SqlLedger
from trt.store.payments import SqlPayments
from trt.store.pipeline import SqlPipeline
from trt.store.promo import SqlPromo
from trt.store.referrals import SqlReferrals
from trt.store.schema import require_current_schema
from trt.store.users import SqlUsers
from trt.store.visits import SqlVisits


class SqlStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.users = SqlUsers(db)
        self.ledger = SqlLedger(db)
        self.jobs = SqlJobs(db)
        self.pipeline = SqlPipeline(db)
        self.inbox = SqlInbox(db)
        self.payments = SqlPayments(db)
        self.promo = SqlPromo(db)
        self.referrals = SqlReferrals(db)
        self.visits = SqlVisits(db)


@contextlib.asynccontextmanager
async def open_store(url: str, *, check_schema: bool = True) -> AsyncIterator[SqlStore]:
    """Connect, check the schema is current, and close on exit.

    Raises: DatabaseUnavailable, SchemaNotMigrated.
    """
    db = create_database(url)
    try:
        if check_schema:
            await require_current_schema(db)
        yield SqlStore(db)
    finally:
        await db.dispose()
