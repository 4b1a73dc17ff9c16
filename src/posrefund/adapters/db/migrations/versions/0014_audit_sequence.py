"""audit_events: an event may be written before it is chained (seq, prev_hash, hash empty until the sequencer
gives it its place), so a merchant's refunds no longer queue on the chain's head row

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UNCHAINED = sa.text("seq IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_index(
            "ix_audit_events_unchained", ["id"], unique=False, postgresql_where=UNCHAINED, sqlite_where=UNCHAINED
        )


def downgrade() -> None:
    """Fails while events wait to be chained: run `posrefund audit verify` (it chains them) first."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_unchained")
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
