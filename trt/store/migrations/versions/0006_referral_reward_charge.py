"""referrals: the top-up that paid the reward, so refunding it takes the bonuses back

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 16:40:00

Rewards paid before this revision have no charge recorded and stay as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reward_charge_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('reward_charge_id')
