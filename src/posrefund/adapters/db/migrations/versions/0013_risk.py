"""risk: warnings on refunds — rule settings per merchant, alerts and their cases; who rang a sale up and where
a refund was paid when not back to the payer

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.add_column(sa.Column("sold_by", sa.String(length=40), server_default="", nullable=False))
    op.create_index("ix_sales_merchant_paid_date_sold_by", "sales", ["merchant_id", "paid_date", "sold_by"])
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("payee_masked", sa.String(length=40), server_default="", nullable=False))
    op.create_index(
        "ix_refunds_merchant_requested_by_created_at", "refunds", ["merchant_id", "requested_by", "created_at"]
    )
    op.create_table(
        "risk_settings",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_risk_settings_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_risk_settings")),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=80), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("assigned_to", sa.String(length=40), server_default="", nullable=False),
        sa.Column("decision_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_risk_alerts_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    op.create_index("ix_risk_alerts_merchant_status_created", "risk_alerts", ["merchant_id", "status", "created_at"])
    op.create_index(
        "ix_risk_alerts_merchant_subject", "risk_alerts", ["merchant_id", "rule", "subject_kind", "subject_id"]
    )
    op.create_table(
        "risk_alert_cases",
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("linked_by", sa.String(length=40), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["risk_alerts.id"], name=op.f("fk_risk_alert_cases_alert_id_risk_alerts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["refunds.id"], name=op.f("fk_risk_alert_cases_case_id_refunds")),
        sa.PrimaryKeyConstraint("alert_id", "case_id", name=op.f("pk_risk_alert_cases")),
    )
    op.create_index(op.f("ix_risk_alert_cases_case_id"), "risk_alert_cases", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_risk_alert_cases_case_id"), table_name="risk_alert_cases")
    op.drop_table("risk_alert_cases")
    op.drop_index("ix_risk_alerts_merchant_subject", table_name="risk_alerts")
    op.drop_index("ix_risk_alerts_merchant_status_created", table_name="risk_alerts")
    op.drop_table("risk_alerts")
    op.drop_table("risk_settings")
    op.drop_index("ix_refunds_merchant_requested_by_created_at", table_name="refunds")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("payee_masked")
    op.drop_index("ix_sales_merchant_paid_date_sold_by", table_name="sales")
    with op.batch_alter_table("sales") as batch:
        batch.drop_column("sold_by")
