"""operator controls: the audit log, model overrides and maintenance mode

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 19:50:00

No rows are written: a model without an override is sold as the registry says, and a
database without a maintenance row is not in maintenance.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trt.store.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('operator_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', trt.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_actions'))
    )
    with op.batch_alter_table('operator_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_actions_at'), ['at'], unique=False)
    op.create_table('model_overrides',
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('markup', sa.String(length=16), nullable=True),
    sa.Column('updated_at', trt.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('model_id', name=op.f('pk_model_overrides'))
    )
    op.create_table('maintenance',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('updated_at', trt.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_maintenance_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance'))
    )


def downgrade() -> None:
    op.drop_table('maintenance')
    op.drop_table('model_overrides')
    with op.batch_alter_table('operator_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_actions_at'))
    op.drop_table('operator_actions')
