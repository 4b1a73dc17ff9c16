"""abnormal refund applications: an abnormal WeChat Pay refund sent to a bank card, its card details encrypted

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 21:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "abnormal_refund_applications",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("bank_type", sa.String(length=16), server_default="", nullable=False),
        sa.Column("account_masked", sa.String(length=12), server_default="", nullable=False),
        sa.Column("real_name_enc", sa.Text(), server_default="", nullable=False),
        sa.Column("consent_by_enc", sa.Text(), nullable=False),
        sa.Column("consent_how", sa.String(length=16), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(length=40), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_code", sa.String(length=64), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["refunds.id"], name=op.f("fk_abnormal_refund_applications_case_id_refunds")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_abnormal_refund_applications_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_abnormal_refund_applications")),
    )
    op.create_index(
        op.f("ix_abnormal_refund_applications_merchant_id"), "abnormal_refund_applications", ["merchant_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_abnormal_refund_applications_merchant_id"), table_name="abnormal_refund_applications")
    op.drop_table("abnormal_refund_applications")
