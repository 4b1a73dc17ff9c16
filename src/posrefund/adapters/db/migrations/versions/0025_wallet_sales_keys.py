"""wallet sales keyed by their order number: voucher, batch and RRN are the card's keys, not the wallets'

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 18:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

CARD_KEYS = sa.text("voucher_no <> ''")
WALLET_KEYS = sa.text("voucher_no = '' AND order_no <> ''")


def upgrade() -> None:
    # A wallet sale (WeChat Pay, Alipay) has no voucher, batch or RRN: it was recorded with invented ones to
    # pass the one unique key (terminal, batch, voucher). The card's key now holds where there is a voucher
    # no., and a sale without one is the merchant's order number, once.
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sales_terminal_id_batch_no_voucher_no", type_="unique")
    op.create_index(
        "ux_sales_card_keys",
        "sales",
        ["terminal_id", "batch_no", "voucher_no"],
        unique=True,
        sqlite_where=CARD_KEYS,
        postgresql_where=CARD_KEYS,
    )
    op.create_index(
        "ux_sales_wallet_order",
        "sales",
        ["merchant_id", "order_no"],
        unique=True,
        sqlite_where=WALLET_KEYS,
        postgresql_where=WALLET_KEYS,
    )


def downgrade() -> None:
    op.drop_index("ux_sales_wallet_order", table_name="sales")
    op.drop_index("ux_sales_card_keys", table_name="sales")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_sales_terminal_id_batch_no_voucher_no", ["terminal_id", "batch_no", "voucher_no"]
        )
