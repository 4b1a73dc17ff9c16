"""deposits: 定金, 订金 and 押金 — terms templates, deposits on sales, refund proposals, penalty payouts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "deposit_terms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("hold_days", sa.Integer(), nullable=False),
        sa.Column("costs_deductible", sa.Boolean(), nullable=False),
        sa.Column("max_deduction_bp", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("deposit_terms", "merchant_id", "merchants"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_terms")),
    )
    op.create_index("uq_deposit_terms_merchant_name", "deposit_terms", ["merchant_id", "name"], unique=True)
    op.create_table(
        "deposits",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("terms_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contract_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("held_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("allowed_back_fen", sa.BigInteger(), nullable=True),
        sa.Column("overdue_flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "allowed_back_fen IS NULL OR allowed_back_fen BETWEEN 0 AND amount_fen",
            name=op.f("ck_deposits_allowed_within_paid"),
        ),
        _fk("deposits", "merchant_id", "merchants"),
        _fk("deposits", "sale_id", "sales"),
        sa.ForeignKeyConstraint(["terms_id"], ["deposit_terms.id"], name=op.f("fk_deposits_terms_id_deposit_terms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposits")),
        sa.UniqueConstraint("sale_id", name=op.f("uq_deposits_sale_id")),
    )
    op.create_index("ix_deposits_merchant_status_held_until", "deposits", ["merchant_id", "status", "held_until"])
    op.create_table(
        "deposit_proposals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("deposit_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ending", sa.String(length=24), nullable=False),
        sa.Column("deductions", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("back_now_fen", sa.BigInteger(), nullable=False),
        sa.Column("penalty_now_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis_back_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis_penalty_fen", sa.BigInteger(), nullable=False),
        sa.Column("override_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("overridden_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("payout_id", sa.String(length=40), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("deposit_proposals", "merchant_id", "merchants"),
        _fk("deposit_proposals", "deposit_id", "deposits"),
        _fk("deposit_proposals", "refund_id", "refunds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_proposals")),
    )
    op.create_index(op.f("ix_deposit_proposals_deposit_id"), "deposit_proposals", ["deposit_id"])
    op.create_table(
        "deposit_payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("deposit_id", sa.String(length=40), nullable=False),
        sa.Column("proposal_id", sa.String(length=40), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=64), server_default="", nullable=False),
        sa.Column("cancel_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_deposit_payouts_amount_positive")),
        _fk("deposit_payouts", "merchant_id", "merchants"),
        _fk("deposit_payouts", "deposit_id", "deposits"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["deposit_proposals.id"], name=op.f("fk_deposit_payouts_proposal_id_deposit_proposals")
        ),
        _fk("deposit_payouts", "refund_id", "refunds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_payouts")),
    )
    op.create_index(op.f("ix_deposit_payouts_deposit_id"), "deposit_payouts", ["deposit_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deposit_payouts_deposit_id"), table_name="deposit_payouts")
    op.drop_table("deposit_payouts")
    op.drop_index(op.f("ix_deposit_proposals_deposit_id"), table_name="deposit_proposals")
    op.drop_table("deposit_proposals")
    op.drop_index("ix_deposits_merchant_status_held_until", table_name="deposits")
    op.drop_table("deposits")
    op.drop_index("uq_deposit_terms_merchant_name", table_name="deposit_terms")
    op.drop_table("deposit_terms")
