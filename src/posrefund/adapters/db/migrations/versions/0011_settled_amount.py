"""settlement_lines.settled_fen: what the channel settles for a line before its fee (the amount less the
discounts the merchant funds), the base of the fee check; a line imported before is taken as settled in full

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
    with op.batch_alter_table("settlement_lines") as batch:
        batch.add_column(sa.Column("settled_fen", sa.BigInteger(), server_default="0", nullable=False))
    op.execute("UPDATE settlement_lines SET settled_fen = amount_fen")


def downgrade() -> None:
    with op.batch_alter_table("settlement_lines") as batch:
        batch.drop_column("settled_fen")
