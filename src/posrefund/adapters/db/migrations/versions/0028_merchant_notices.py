"""merchant notices: the merchant's own contact for messages about its device returns and fee refunds, and
notifications that belong to no refund case

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_contacts",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=2), server_default="zh", nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("phone_masked", sa.String(length=20), server_default="", nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=True),
        sa.Column("email_masked", sa.String(length=120), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_contacts_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_merchant_contacts")),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("case_id", existing_type=sa.String(length=40), nullable=True)


def downgrade() -> None:
    op.execute(
        "DELETE FROM notify_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE case_id IS NULL)"
    )
    op.execute("DELETE FROM notifications WHERE case_id IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("case_id", existing_type=sa.String(length=40), nullable=False)
    op.drop_table("merchant_contacts")
