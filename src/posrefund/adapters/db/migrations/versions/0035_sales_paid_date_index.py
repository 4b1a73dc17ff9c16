"""sales lose the index on (merchant, paid date): the index on (merchant, paid date, sold by) begins with the same
two columns and serves every query that one served (a day's sales for the reports' aggregates), so it only cost
an entry more for every sale written

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-05 10:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

INDEX = "ix_sales_merchant_paid_date"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="sales")


def downgrade() -> None:
    op.create_index(INDEX, "sales", ["merchant_id", "paid_date"])
