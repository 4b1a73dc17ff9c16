"""risk holds: a refund named by a high alert waits for a second person; the scheduled scan's claim per merchant

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_holds",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["refunds.id"], name=op.f("fk_risk_holds_case_id_refunds")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_risk_holds_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["alert_id"], ["risk_alerts.id"], name=op.f("fk_risk_holds_alert_id_risk_alerts")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_risk_holds")),
    )
    op.create_index("ix_risk_holds_merchant_status", "risk_holds", ["merchant_id", "status", "held_at"])
    op.create_table(
        "risk_scan_schedule",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=40), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_risk_scan_schedule_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_risk_scan_schedule")),
    )


def downgrade() -> None:
    op.drop_table("risk_scan_schedule")
    op.drop_index("ix_risk_holds_merchant_status", table_name="risk_holds")
    op.drop_table("risk_holds")
