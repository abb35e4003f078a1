"""users: a folded name for case-insensitive search, and who/when/why of the last ban change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:50:00

`name_key` is filled here for the users already stored; the bot keeps it current from
then on. Bans made before this revision have no reason recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trt.store.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ban_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('ban_changed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ban_changed_at', trt.store.types.UTCDateTime(timezone=True), nullable=True))
    _fill_name_keys()


def _fill_name_keys() -> None:
    # Folded in Python: SQLite's lower() knows only ASCII, and most names here are Cyrillic.
    bind = op.get_bind()
    users = sa.table(
        'users', sa.column('id', sa.BigInteger), sa.column('username', sa.String),
        sa.column('first_name', sa.String), sa.column('name_key', sa.String),
    )  # fmt: skip
    last = None
    while True:
        query = sa.select(users.c.id, users.c.username, users.c.first_name).order_by(users.c.id)
        if last is not None:
            query = query.where(users.c.id > last)
        rows = bind.execute(query.limit(_BATCH)).all()
        if not rows:
            return
        for user_id, username, first_name in rows:
            bind.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(name_key=_fold(username, first_name))
            )
        last = rows[-1][0]


def _fold(username: str | None, first_name: str | None) -> str:
    # As trt.store.users.name_key did at this revision (copied: a migration stays fixed).
    return ' '.join(part for part in (username, first_name) if part).casefold()[:200]


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('ban_changed_at')
        batch_op.drop_column('ban_changed_by')
        batch_op.drop_column('ban_reason')
        batch_op.drop_column('name_key')
