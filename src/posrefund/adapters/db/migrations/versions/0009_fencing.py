"""fencing: a fencing token on each refund and the list of its attempts on the channel

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("fence", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "refund_attempts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("refund_no", sa.String(length=64), nullable=False),
        sa.Column("previous_refund_no", sa.String(length=64), server_default="", nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call", sa.String(length=8), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=16), server_default="", nullable=False),
        sa.Column("code", sa.String(length=64), server_default="", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["refunds.id"], name=op.f("fk_refund_attempts_case_id_refunds")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_refund_attempts_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_attempts")),
        sa.UniqueConstraint("case_id", "fence", name=op.f("uq_refund_attempts_case_id_fence")),
    )
    with op.batch_alter_table("refund_attempts") as batch:
        batch.create_index(batch.f("ix_refund_attempts_refund_no"), ["refund_no"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund_attempts") as batch:
        batch.drop_index(batch.f("ix_refund_attempts_refund_no"))
    op.drop_table("refund_attempts")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("fence")
