"""settlement integrity: lines keyed by the channel's references, withdrawn files, stale runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_files") as batch:
        batch.add_column(sa.Column("overlap_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=40), server_default="", nullable=False))
        batch.add_column(sa.Column("withdraw_reason", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("settlement_lines") as batch:
        batch.add_column(sa.Column("line_key", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("shadow", sa.String(length=40), server_default="", nullable=False))
    # Lines imported before lines had keys keep a key of their own: they count as they did.
    op.execute("UPDATE settlement_lines SET line_key = 'line:' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("settlement_lines") as batch:
        batch.create_index(batch.f("ix_settlement_lines_line_key"), ["merchant_id", "line_key", "shadow"], unique=True)
    with op.batch_alter_table("recon_runs") as batch:
        batch.add_column(sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stale_reason", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("recon_runs") as batch:
        batch.drop_column("stale_reason")
        batch.drop_column("stale_at")
    with op.batch_alter_table("settlement_lines") as batch:
        batch.drop_index(batch.f("ix_settlement_lines_line_key"))
        batch.drop_column("shadow")
        batch.drop_column("line_key")
    with op.batch_alter_table("settlement_files") as batch:
        batch.drop_column("withdraw_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
        batch.drop_column("overlap_count")
