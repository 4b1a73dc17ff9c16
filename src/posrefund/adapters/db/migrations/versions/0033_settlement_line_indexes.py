"""settlement_lines keeps only the indexes a query reads, in an order a file's lines arrive in: no query filters
lines by payer or by merchant order no. since the matching moved to DuckDB (the run reads a file's lines by file
and day), and the voucher index loses its trailing amount (the card refund lookup seeks voucher no. and terminal,
then checks the amount on the few lines found). An index whose entries land at random places costs a page write
per line once it outgrows the cache: the three made a million-line import three times what the table alone costs.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

VOUCHER = "ix_settlement_lines_voucher"


def upgrade() -> None:
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_settlement_lines_payer")
        batch_op.drop_index("ix_settlement_lines_order")
        batch_op.drop_index(VOUCHER)
        batch_op.create_index(VOUCHER, ["merchant_id", "voucher_no", "terminal_no"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.drop_index(VOUCHER)
        batch_op.create_index(VOUCHER, ["merchant_id", "voucher_no", "terminal_no", "amount_fen"], unique=False)
        batch_op.create_index("ix_settlement_lines_order", ["merchant_id", "merchant_order_no"], unique=False)
        batch_op.create_index(
            "ix_settlement_lines_payer",
            ["merchant_id", "payer_masked", "amount_fen", "terminal_no", "occurred_epoch"],
            unique=False,
        )
