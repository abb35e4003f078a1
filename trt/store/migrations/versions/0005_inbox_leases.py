"""inbox leases: a row per (update_id, payload digest), its sender, and who claimed it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 14:00:00

The table is rebuilt (its primary key changes), copying every row; unprocessed ones keep
their place in line. The digest is computed here as `trt.store.inbox.digest_of` computes
it, so a delivery Telegram retries after the deploy is still a duplicate.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import trt.store.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 1000
UTC = trt.store.types.UTCDateTime


def _digest(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _sender(payload: dict[str, Any]) -> int | None:
    for key, event in payload.items():
        person = (event.get("from") or event.get("user")) if isinstance(event, dict) else None
        if key != "update_id" and isinstance(person, dict) and not person.get("is_bot"):
            user_id = person.get("id")
            if isinstance(user_id, int) and 0 < user_id < 2**63:
                return user_id
    return None


def _old_rows(conn: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    old = sa.table(
        'telegram_updates', sa.column('update_id', sa.BigInteger), sa.column('payload', sa.JSON),
        sa.column('received_at', UTC()), sa.column('claimed_until', UTC()),
        sa.column('processed_at', UTC()),
    )
    after = -1
    while True:
        rows = conn.execute(
            sa.select(old).where(old.c.update_id > after).order_by(old.c.update_id).limit(CHUNK)
        ).mappings().all()
        if not rows:
            return
        after = rows[-1]['update_id']
        yield [dict(row) for row in rows]


def upgrade() -> None:
    new = op.create_table(
        'telegram_updates_new',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('update_id', sa.BigInteger(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', UTC(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', UTC(timezone=True), nullable=True),
        sa.Column('processed_at', UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_telegram_updates_new')),
    )
    conn = op.get_bind()
    for rows in _old_rows(conn):
        op.bulk_insert(new, [
            {**row, 'digest': _digest(row['payload']), 'user_id': _sender(row['payload'])}
            for row in rows
        ])
    op.drop_table('telegram_updates')
    op.rename_table('telegram_updates_new', 'telegram_updates')
    op.create_index('uq_telegram_updates_update_id_digest', 'telegram_updates',
                    ['update_id', 'digest'], unique=True)
    op.create_index('ix_telegram_updates_user_id_update_id', 'telegram_updates',
                    ['user_id', 'update_id'], unique=False)
    op.create_index(op.f('ix_telegram_updates_received_at'), 'telegram_updates',
                    ['received_at'], unique=False)
    op.create_index(op.f('ix_telegram_updates_processed_at'), 'telegram_updates',
                    ['processed_at'], unique=False)


def downgrade() -> None:
    # The old key cannot hold two updates with one id: the newest of each id is kept.
    op.drop_index('ix_telegram_updates_user_id_update_id', table_name='telegram_updates')
    op.drop_index('uq_telegram_updates_update_id_digest', table_name='telegram_updates')
    op.drop_index(op.f('ix_telegram_updates_received_at'), table_name='telegram_updates')
    op.drop_index(op.f('ix_telegram_updates_processed_at'), table_name='telegram_updates')
    op.rename_table('telegram_updates', 'telegram_updates_v5')
    op.create_table(
        'telegram_updates',
        sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', UTC(timezone=True), nullable=False),
        sa.Column('processed_at', UTC(timezone=True), nullable=True),
        sa.Column('claimed_until', UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('update_id', name=op.f('pk_telegram_updates')),
    )
    op.execute(
        "INSERT INTO telegram_updates (update_id, payload, received_at, processed_at, "
        "claimed_until) SELECT update_id, payload, received_at, processed_at, claimed_until "
        "FROM telegram_updates_v5 AS t WHERE seq = (SELECT max(seq) FROM telegram_updates_v5 "
        "WHERE update_id = t.update_id)"
    )
    op.drop_table('telegram_updates_v5')
    op.create_index(op.f('ix_telegram_updates_received_at'), 'telegram_updates',
                    ['received_at'], unique=False)
    op.create_index(op.f('ix_telegram_updates_processed_at'), 'telegram_updates',
                    ['processed_at'], unique=False)
