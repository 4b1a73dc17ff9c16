"""sale items: the lines of a sale and the units each refund covers; the audit browser's index

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sale_items",
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_qty", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reserved_qty", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sale_items_quantity_positive")),
        sa.CheckConstraint("amount_fen >= 0 AND unit_price_fen >= 0", name=op.f("ck_sale_items_amounts_not_negative")),
        sa.CheckConstraint("refunded_qty >= 0 AND reserved_qty >= 0", name=op.f("ck_sale_items_units_not_negative")),
        sa.CheckConstraint("refunded_qty + reserved_qty <= quantity", name=op.f("ck_sale_items_never_over_refunded")),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_sale_items_sale_id_sales")),
        sa.PrimaryKeyConstraint("sale_id", "line", name=op.f("pk_sale_items")),
    )
    op.create_table(
        "refund_items",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_refund_items_quantity_positive")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_refund_items_amount_not_negative")),
        sa.ForeignKeyConstraint(["case_id"], ["refunds.id"], name=op.f("fk_refund_items_case_id_refunds")),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_refund_items_sale_id_sales")),
        sa.PrimaryKeyConstraint("case_id", "line", name=op.f("pk_refund_items")),
    )
    op.create_index(op.f("ix_refund_items_sale_id"), "refund_items", ["sale_id"])
    op.create_index("ix_audit_events_chain_id", "audit_events", ["chain", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_chain_id", table_name="audit_events")
    op.drop_index(op.f("ix_refund_items_sale_id"), table_name="refund_items")
    op.drop_table("refund_items")
    op.drop_table("sale_items")
