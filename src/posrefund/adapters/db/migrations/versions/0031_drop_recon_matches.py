"""drop recon_matches: the run's matches live in DuckDB (adapters/db/recon_engine) since the matching moved
there; the scratch table has not been written since, and an empty table nobody writes only misleads readers

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 00:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_recon_matches_line", ["run_id", "line_id"]),
    ("ix_recon_matches_refund", ["run_id", "refund_id"]),
    ("ix_recon_matches_sale", ["run_id", "sale_id"]),
)


def upgrade() -> None:
    with op.batch_alter_table("recon_matches", schema=None) as batch_op:
        for name, _columns in INDEXES:
            batch_op.drop_index(name)
    op.drop_table("recon_matches")


def downgrade() -> None:
    op.create_table(
        "recon_matches",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("sale_id", sa.String(length=40), server_default="", nullable=False),
        sa.Column("refund_id", sa.String(length=40), server_default="", nullable=False),
    )
    with op.batch_alter_table("recon_matches", schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)
