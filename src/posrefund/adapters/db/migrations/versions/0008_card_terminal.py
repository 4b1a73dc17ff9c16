"""card terminal: persistent trace/batch counters and the journal of sent voids and refunds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_terminal_counters",
        sa.Column("terminal_id", sa.String(length=8), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=False),
        sa.Column("trace_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_card_terminal_counters")),
    )
    op.create_table(
        "card_terminal_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("terminal_id", sa.String(length=8), nullable=False),
        sa.Column("merchant_id", sa.String(length=15), nullable=False),
        sa.Column("batch_no", sa.String(length=6), nullable=False),
        sa.Column("trace_no", sa.String(length=6), nullable=False),
        sa.Column("refund_no", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reversal_tries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("response_code", sa.String(length=2), server_default="", nullable=False),
        sa.Column("rrn", sa.String(length=12), server_default="", nullable=False),
        sa.Column("auth_code", sa.String(length=6), server_default="", nullable=False),
        sa.Column("host_time", sa.String(length=10), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_terminal_journal")),
        sa.UniqueConstraint(
            "terminal_id", "batch_no", "trace_no", name=op.f("uq_card_terminal_journal_terminal_id_batch_no_trace_no")
        ),
    )
    with op.batch_alter_table("card_terminal_journal", schema=None) as batch_op:
        batch_op.create_index("ix_card_terminal_journal_refund_no", ["refund_no"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card_terminal_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_card_terminal_journal_refund_no")
    op.drop_table("card_terminal_journal")
    op.drop_table("card_terminal_counters")
