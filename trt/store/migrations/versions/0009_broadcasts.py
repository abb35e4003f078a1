"""broadcasts: announcements, each recipient's progress, and the users' opt-out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 19:50:00

A recipient row is written before its message is sent, so a crash never sends one twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trt.store.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcasts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('report_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_at', trt.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', trt.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', trt.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcasts_state'), ['state'], unique=False)

    op.create_table('broadcast_recipients',
    sa.Column('broadcast_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('at', trt.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], name=op.f('fk_broadcast_recipients_broadcast_id_broadcasts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_broadcast_recipients_user_id_users')),
    sa.PrimaryKeyConstraint('broadcast_id', 'user_id', name=op.f('pk_broadcast_recipients'))
    )
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_broadcast_recipients_broadcast_id_state', ['broadcast_id', 'state', 'user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('broadcast_opt_out')

    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcast_recipients_broadcast_id_state')

    op.drop_table('broadcast_recipients')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcasts_state'))

    op.drop_table('broadcasts')
