"""channel_accounts: a merchant's sub-merchant account on a wallet channel (WeChat Pay 服务商 sub_mchid)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_channel_accounts",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sub_mchid", sa.String(length=32), nullable=False),
        sa.Column("sub_appid", sa.String(length=32), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_channel_accounts_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("merchant_id", "channel", name=op.f("pk_merchant_channel_accounts")),
    )


def downgrade() -> None:
    op.drop_table("merchant_channel_accounts")
