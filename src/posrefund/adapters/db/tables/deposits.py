"""Deposits (定金, 订金, 押金): the merchant's terms templates, the deposit recorded on a sale, the refund
proposals computed for it and the penalty payouts of a double return (定金罚则)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from posrefund.adapters.db.tables.columns import ID, blank_string, blank_text, id_key, merchant_ref, metadata, moment

deposit_terms = Table(
    "deposit_terms",
    metadata,
    id_key(),
    merchant_ref(),
    Column("name", String(80), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("hold_days", Integer, nullable=False),
    Column("costs_deductible", Boolean, nullable=False),
    Column("max_deduction_bp", Integer, nullable=False),
    blank_text("text"),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    Index("uq_deposit_terms_merchant_name", "merchant_id", "name", unique=True),
)

deposits = Table(
    "deposits",
    metadata,
    id_key(),
    merchant_ref(),
    Column("sale_id", ID, ForeignKey("sales.id"), nullable=False, unique=True),
    Column("terms_id", ID, ForeignKey("deposit_terms.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("contract_value_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("held_until", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("allowed_back_fen", BigInteger, nullable=True),
    moment("overdue_flagged_at", nullable=True),
    Column("recorded_by", ID, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    Column("version", Integer, nullable=False),
    CheckConstraint(
        "allowed_back_fen IS NULL OR allowed_back_fen BETWEEN 0 AND amount_fen", name="allowed_within_paid"
    ),
    # The supervisor's list of deposits held beyond their terms.
    Index("ix_deposits_merchant_status_held_until", "merchant_id", "status", "held_until"),
)

deposit_proposals = Table(
    "deposit_proposals",
    metadata,
    id_key(),
    merchant_ref(),
    Column("deposit_id", ID, ForeignKey("deposits.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("ending", String(24), nullable=False),
    Column("deductions", Text, nullable=False),  # JSON: amount, reason and evidence of each
    Column("figures", Text, nullable=False),  # JSON: the proposal's amounts and its explanation
    Column("back_now_fen", BigInteger, nullable=False),
    Column("penalty_now_fen", BigInteger, nullable=False),
    Column("basis_back_fen", BigInteger, nullable=False),
    Column("basis_penalty_fen", BigInteger, nullable=False),
    blank_text("override_reason"),
    blank_string("overridden_by", 40),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    blank_string("decided_by", 40),
    moment("decided_at", nullable=True),
    Column("refund_id", ID, ForeignKey("refunds.id"), nullable=True),
    blank_string("payout_id", 40),
    Column("version", Integer, nullable=False),
)

deposit_payouts = Table(
    "deposit_payouts",
    metadata,
    id_key(),
    merchant_ref(),
    Column("deposit_id", ID, ForeignKey("deposits.id"), nullable=False, index=True),
    Column("proposal_id", ID, ForeignKey("deposit_proposals.id"), nullable=False),
    Column("refund_id", ID, ForeignKey("refunds.id"), nullable=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    blank_string("reference", 64),
    blank_text("cancel_reason"),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    blank_string("confirmed_by", 40),
    moment("confirmed_at", nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)
