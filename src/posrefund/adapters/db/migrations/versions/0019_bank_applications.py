"""documents: refund applications to the bank (退费申请) on a case; refund-cause summaries' subscriptions and
their deliveries (one row per subscription and period, claimed before sending)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _id(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=40), nullable=False)


def upgrade() -> None:
    op.create_table(
        "bank_applications",
        _id("id"),
        _id("merchant_id"),
        _id("case_id"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("statement", sa.Text(), server_default="", nullable=False),
        sa.Column("evidence_ids", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("channel", sa.String(length=24), server_default="", nullable=False),
        sa.Column("bank", sa.String(length=100), server_default="", nullable=False),
        sa.Column("bank_reference", sa.String(length=64), server_default="", nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("bank_reply", sa.Text(), server_default="", nullable=False),
        _id("prepared_by"),
        sa.Column("prepared_at", TZ, nullable=False),
        _id("updated_by"),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["refunds.id"], name=op.f("fk_bank_applications_case_id_refunds")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_bank_applications_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_applications")),
    )
    op.create_index(op.f("ix_bank_applications_case_id"), "bank_applications", ["case_id"])
    op.create_index(
        "ix_bank_applications_merchant_status_deadline", "bank_applications", ["merchant_id", "status", "deadline"]
    )
    op.create_table(
        "summary_subscriptions",
        _id("id"),
        _id("merchant_id"),
        _id("user_id"),
        sa.Column("cadence", sa.String(length=8), nullable=False),
        sa.Column("store_ids", sa.Text(), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("email_masked", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_summary_subscriptions_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_summary_subscriptions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_subscriptions")),
    )
    op.create_index(
        "ix_summary_subscriptions_user_cadence",
        "summary_subscriptions",
        ["merchant_id", "user_id", "cadence"],
        unique=True,
    )
    op.create_index("ix_summary_subscriptions_cadence_active", "summary_subscriptions", ["cadence", "active"])
    op.create_table(
        "summary_deliveries",
        _id("subscription_id"),
        sa.Column("period_key", sa.String(length=10), nullable=False),
        _id("merchant_id"),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("claimed_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("message_id", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["summary_subscriptions.id"],
            name=op.f("fk_summary_deliveries_subscription_id_summary_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", "period_key", name=op.f("pk_summary_deliveries")),
    )
    op.create_index("ix_summary_deliveries_merchant_period", "summary_deliveries", ["merchant_id", "period_key"])


def downgrade() -> None:
    op.drop_index("ix_summary_deliveries_merchant_period", table_name="summary_deliveries")
    op.drop_table("summary_deliveries")
    op.drop_index("ix_summary_subscriptions_cadence_active", table_name="summary_subscriptions")
    op.drop_index("ix_summary_subscriptions_user_cadence", table_name="summary_subscriptions")
    op.drop_table("summary_subscriptions")
    op.drop_index("ix_bank_applications_merchant_status_deadline", table_name="bank_applications")
    op.drop_index(op.f("ix_bank_applications_case_id"), table_name="bank_applications")
    op.drop_table("bank_applications")
