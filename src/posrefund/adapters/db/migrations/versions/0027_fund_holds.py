"""fund holds: card pre-authorisations (and Alipay freezes) and the operations the worker sends on them

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 21:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def _blank(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), server_default="", nullable=False)


def upgrade() -> None:
    op.create_table(
        "fund_holds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("hold_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tolerance_bp", sa.Integer(), nullable=False),
        _blank("channel_hold_id", 64),
        _blank("auth_code", 6),
        _blank("rrn", 12),
        _blank("voucher_no", 6),
        _blank("batch_no", 6),
        _blank("terminal_no", 8),
        _blank("card_masked", 32),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("taken_fen", sa.BigInteger(), nullable=False),
        _blank("completion_operation_no", 64),
        sa.Column("completion_fen", sa.BigInteger(), nullable=False),
        _blank("completion_rrn", 12),
        _blank("completion_auth_code", 6),
        _blank("completion_voucher_no", 6),
        _blank("completion_batch_no", 6),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_by_notice", sa.Boolean(), nullable=False),
        _blank("sale_id", 40),
        sa.Column("version", sa.Integer(), nullable=False),
        _blank("recorded_by", 40),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_fund_holds_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"], name=op.f("fk_fund_holds_terminal_id_terminals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_holds")),
        sa.UniqueConstraint("merchant_id", "hold_no", name=op.f("uq_fund_holds_merchant_id_hold_no")),
    )
    op.create_index("ix_fund_holds_state_expires_at", "fund_holds", ["state", "expires_at"])
    op.create_table(
        "fund_hold_operations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("hold_id", sa.String(length=40), nullable=False),
        sa.Column("operation_no", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        _blank("worker", 40),
        _blank("outcome", 16),
        _blank("code", 32),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        _blank("requested_by", 40),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_fund_hold_operations_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["fund_holds.id"], name=op.f("fk_fund_hold_operations_hold_id_fund_holds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_hold_operations")),
        sa.UniqueConstraint("operation_no", name=op.f("uq_fund_hold_operations_operation_no")),
    )
    op.create_index("ix_fund_hold_operations_hold_id", "fund_hold_operations", ["hold_id"])
    op.create_index("ix_fund_hold_operations_status_next_check_at", "fund_hold_operations", ["status", "next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_fund_hold_operations_status_next_check_at", table_name="fund_hold_operations")
    op.drop_index("ix_fund_hold_operations_hold_id", table_name="fund_hold_operations")
    op.drop_table("fund_hold_operations")
    op.drop_index("ix_fund_holds_state_expires_at", table_name="fund_holds")
    op.drop_table("fund_holds")
