"""jobs: the credits KIE really consumed beside the quote; cost_guard: open episodes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:50:00

Until now `jobs.kie_credits` was overwritten at success with whatever figure the task
record carried, so for old jobs nobody can tell quote from real cost: they stay
unmeasured (`real_credits` NULL) rather than pretend either way.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trt.store.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('real_credits', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('credits_source', sa.String(length=16), nullable=True))
    op.create_table('cost_guard',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('tripped', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('tripped_at', trt.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recovered_at', trt.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('model_id', name=op.f('pk_cost_guard'))
    )


def downgrade() -> None:
    op.drop_table('cost_guard')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('credits_source')
        batch_op.drop_column('real_credits')
