"""reconciliation desk: stored acquirer layouts, till checks and tolerances, a sale's channel reference

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _merchant(primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("merchant_id", sa.String(length=40), nullable=False, primary_key=primary_key)


def _changed() -> tuple[sa.Column, sa.Column]:  # type: ignore[type-arg]
    return (
        sa.Column("updated_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "settlement_mappings",
        _merchant(),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_changed(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_settlement_mappings_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("merchant_id", "name", name=op.f("pk_settlement_mappings")),
    )
    op.create_table(
        "till_tolerances",
        _merchant(),
        sa.Column("tolerance_fen", sa.BigInteger(), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_till_tolerances_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_till_tolerances")),
    )
    _till_checks()
    with op.batch_alter_table("sales") as batch:
        batch.add_column(sa.Column("channel_trade_no", sa.String(length=64), server_default="", nullable=False))


def _till_checks() -> None:
    money = ("float_fen", "counted_fen", "cash_sales_fen", "cash_refunds_fen", "expected_fen", "difference_fen")
    op.create_table(
        "till_checks",
        sa.Column("id", sa.String(length=40), nullable=False),
        _merchant(),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("cashier_id", sa.String(length=40), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in money[:2]),
        sa.Column("denominations", sa.Text(), server_default="", nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in money[2:]),
        sa.Column("tolerance_fen", sa.BigInteger(), nullable=False),
        sa.Column("transactions", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("investigation", sa.String(length=16), server_default="", nullable=False),
        sa.Column("investigation_note", sa.Text(), server_default="", nullable=False),
        sa.Column("counted_by", sa.String(length=40), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_off_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_off_note", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_till_checks_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"], name=op.f("fk_till_checks_terminal_id_terminals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_till_checks")),
        sa.UniqueConstraint("terminal_id", "opened_at", name=op.f("uq_till_checks_terminal_id_opened_at")),
    )
    op.create_index("ix_till_checks_merchant_counted_at", "till_checks", ["merchant_id", "counted_at"])


def downgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.drop_column("channel_trade_no")
    op.drop_index("ix_till_checks_merchant_counted_at", table_name="till_checks")
    op.drop_table("till_checks")
    op.drop_table("till_tolerances")
    op.drop_table("settlement_mappings")
