"""fee contracts: periods of fee rules, one-off charges, payout cases with their statements, card type on lines

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "fee_periods",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("consented_on", sa.Date(), nullable=True),
        sa.Column("consent_ref", sa.String(length=64), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_fee_periods_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_periods")),
    )
    op.create_index("ix_fee_periods_merchant_from", "fee_periods", ["merchant_id", "effective_from"], unique=True)
    op.create_table(
        "fee_rules",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("period_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("card_type", sa.String(length=8), nullable=False),
        sa.Column("band_from_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate_ppm", sa.Integer(), nullable=False),
        sa.Column("cap_fen", sa.BigInteger(), nullable=True),
        sa.Column("min_fen", sa.BigInteger(), nullable=False),
        sa.Column("returned_on_refund", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["period_id"], ["fee_periods.id"], name=op.f("fk_fee_rules_period_id_fee_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_rules")),
    )
    op.create_index(
        "ix_fee_rules_period_rule", "fee_rules", ["period_id", "channel", "card_type", "band_from_fen"], unique=True
    )
    op.create_table(
        "one_off_charges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("charged_on", sa.Date(), nullable=False),
        sa.Column("activated_on", sa.Date(), nullable=False),
        sa.Column("terms_kind", sa.String(length=16), nullable=False),
        sa.Column("volume_fen", sa.BigInteger(), nullable=False),
        sa.Column("within_days", sa.Integer(), nullable=False),
        sa.Column("channels", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_one_off_charges_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_off_charges")),
    )
    op.create_index(op.f("ix_one_off_charges_merchant_id"), "one_off_charges", ["merchant_id"])
    _payouts()
    with op.batch_alter_table("settlement_lines") as batch:
        batch.add_column(sa.Column("card_type", sa.String(length=8), server_default="", nullable=False))


def _payouts() -> None:
    op.create_table(
        "fee_payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("charge_id", sa.String(length=40), server_default="", nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("explanation", sa.Text(), server_default="", nullable=False),
        sa.Column("opened_by", sa.String(length=40), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("paid_by", sa.String(length=40), server_default="", nullable=False),
        sa.Column("transfer_ref", sa.String(length=64), server_default="", nullable=False),
        sa.Column("reason", sa.String(length=400), server_default="", nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_fee_payouts_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_payouts")),
    )
    op.create_index(op.f("ix_fee_payouts_merchant_id"), "fee_payouts", ["merchant_id"])
    op.create_table(
        "fee_payout_lines",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("payout_id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("charged_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("difference_fen", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["fee_payouts.id"], name=op.f("fk_fee_payout_lines_payout_id_fee_payouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_payout_lines")),
    )
    op.create_index(op.f("ix_fee_payout_lines_payout_id"), "fee_payout_lines", ["payout_id"])
    op.create_index(op.f("ix_fee_payout_lines_line_id"), "fee_payout_lines", ["line_id"])


def downgrade() -> None:
    with op.batch_alter_table("settlement_lines") as batch:
        batch.drop_column("card_type")
    for table in ("fee_payout_lines", "fee_payouts", "one_off_charges", "fee_rules", "fee_periods"):
        op.drop_table(table)
