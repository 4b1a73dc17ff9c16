"""report_aggregates: daily refund and sale aggregates for the refund reports, and the days to rebuild

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COUNTS: tuple[str, ...] = ("refunds", "amount_fen", "paid", "paid_fen", "failed", "failed_fen", "abnormal")
COUNTS += ("abnormal_fen", "refused", "refused_fen", *(f"wait_{i}" for i in range(16)))


def _counts(names: tuple[str, ...]) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "report_refund_days",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        *_counts(COUNTS),
        sa.PrimaryKeyConstraint(
            "merchant_id",
            "dimension",
            "day",
            "currency",
            "store_id",
            "channel",
            "value",
            name=op.f("pk_report_refund_days"),
        ),
    )
    op.create_table(
        "report_sale_days",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        *_counts(("sales", "sales_fen")),
        sa.PrimaryKeyConstraint(
            "merchant_id", "day", "currency", "store_id", "channel", "terminal_id", name=op.f("pk_report_sale_days")
        ),
    )
    op.create_table(
        "report_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_changes")),
    )
    op.create_index("ix_report_changes_merchant_id", "report_changes", ["merchant_id"])
    op.create_index("ix_sales_merchant_paid_date", "sales", ["merchant_id", "paid_date"])
    _mark_existing_days()


def _mark_existing_days() -> None:
    """Every day that already has cases or sales is rebuilt by the first report read (or the worker)."""
    sales = "INSERT INTO report_changes (merchant_id, day) SELECT DISTINCT merchant_id, paid_date FROM sales"
    if op.get_bind().dialect.name == "postgresql":
        refunds = (
            "INSERT INTO report_changes (merchant_id, day) SELECT DISTINCT merchant_id,"
            " CAST((created_at AT TIME ZONE 'Asia/Shanghai') AS DATE) FROM refunds"
        )
    else:  # China keeps no daylight saving time: +8 hours is Asia/Shanghai
        refunds = (
            "INSERT INTO report_changes (merchant_id, day) SELECT DISTINCT merchant_id,"
            " date(created_at, '+8 hours') FROM refunds"
        )
    op.execute(refunds)
    op.execute(sales)


def downgrade() -> None:
    op.drop_index("ix_sales_merchant_paid_date", table_name="sales")
    op.drop_index("ix_report_changes_merchant_id", table_name="report_changes")
    op.drop_table("report_changes")
    op.drop_table("report_sale_days")
    op.drop_table("report_refund_days")
