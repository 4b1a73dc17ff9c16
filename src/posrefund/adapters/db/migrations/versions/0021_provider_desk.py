"""provider desk: the provider as a seller of devices, the terminals it issued, device returns (退机) and
the notices of their steps

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "provider_desks",
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seller_merchant_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_merchant_id"], ["merchants.id"], name=op.f("fk_provider_desks_seller_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_provider_desks_store_id_stores")),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_provider_desks_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_desks")),
    )
    op.create_table(
        "provider_devices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("sn", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("activated_on", sa.Date(), nullable=True),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("charge_kind", sa.String(length=16), nullable=False),
        sa.Column("charge_fen", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("warranty_months", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.String(length=40), nullable=True),
        sa.Column("replaced_by_id", sa.String(length=40), nullable=True),
        sa.Column("deactivated_at", _WHEN, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_provider_devices_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_provider_devices_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_devices")),
        sa.UniqueConstraint("sn", name=op.f("uq_provider_devices_sn")),
    )
    op.create_index("ix_provider_devices_provider_id_merchant_id", "provider_devices", ["provider_id", "merchant_id"])
    op.create_table(
        "device_returns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("fault_note", sa.Text(), server_default="", nullable=False),
        sa.Column("refund_to_other_account", sa.Boolean(), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=40), nullable=False),
        sa.Column("opened_at", _WHEN, nullable=False),
        sa.Column("ship_address", sa.String(length=400), server_default="", nullable=False),
        sa.Column("courier", sa.String(length=40), server_default="", nullable=False),
        sa.Column("tracking_no", sa.String(length=40), server_default="", nullable=False),
        sa.Column("shipping_approved_at", _WHEN, nullable=True),
        sa.Column("received_at", _WHEN, nullable=True),
        sa.Column("inspection", sa.String(length=16), server_default="", nullable=False),
        sa.Column("inspection_note", sa.Text(), server_default="", nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("escalated_at", _WHEN, nullable=True),
        sa.Column("breached_at", _WHEN, nullable=True),
        sa.Column("decision", sa.String(length=20), server_default="", nullable=False),
        sa.Column("decision_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("deductions", sa.Text(), nullable=False),
        sa.Column("refund_fen", sa.Integer(), nullable=False),
        sa.Column("refund_case_id", sa.String(length=40), nullable=True),
        sa.Column("replacement_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["provider_devices.id"], name=op.f("fk_device_returns_device_id_provider_devices")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_device_returns_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["refund_case_id"], ["refunds.id"], name=op.f("fk_device_returns_refund_case_id_refunds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_returns")),
    )
    op.create_index("ix_device_returns_device_id", "device_returns", ["device_id"])
    op.create_index("ix_device_returns_provider_id_status", "device_returns", ["provider_id", "status"])
    op.create_table(
        "provider_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_notices")),
    )
    op.create_index("ix_provider_notices_provider_id_audience", "provider_notices", ["provider_id", "audience"])


def downgrade() -> None:
    op.drop_index("ix_provider_notices_provider_id_audience", table_name="provider_notices")
    op.drop_table("provider_notices")
    op.drop_index("ix_device_returns_provider_id_status", table_name="device_returns")
    op.drop_index("ix_device_returns_device_id", table_name="device_returns")
    op.drop_table("device_returns")
    op.drop_index("ix_provider_devices_provider_id_merchant_id", table_name="provider_devices")
    op.drop_table("provider_devices")
    op.drop_table("provider_desks")
