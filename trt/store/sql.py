"""The SQL store: one object bundling the repositories over one database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from trt.records import MoneyFigures, Summary
from trt.store import reports, stats
from trt.store.broadcasts import SqlBroadcasts
from trt.store.controls import SqlControls
from trt.store.costs import SqlCosts
from trt.store.engine import Database, create_database
from trt.store.fsm import SqlForms
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
        self.forms = SqlForms(db)
        self.controls = SqlControls(db)
        self.costs = SqlCosts(db)
        self.broadcasts = SqlBroadcasts(db)

    async def check_schema(self) -> None:
        """Raises: SchemaNotMigrated, DatabaseUnavailable."""
        await require_current_schema(self.db)

    async def summary(self, since: datetime) -> Summary:
        """Totals since `since` for the admins' summary."""
        return await stats.summary(self.db, since)

    async def money_figures(self, since: datetime) -> MoneyFigures:
        return await reports.money_figures(self.db, since)


@contextlib.asynccontextmanager
async def open_store(url: str, *, check_schema: bool = True) -> AsyncIterator[SqlStore]:
    """Connect, check the schema is current, and close on exit.

    Raises: DatabaseUnavailable, SchemaNotMigrated.
    """
    db = create_database(url, must_exist=check_schema)
    try:
        if check_schema:
            await require_current_schema(db)
        yield SqlStore(db)
    finally:
        await db.dispose()
