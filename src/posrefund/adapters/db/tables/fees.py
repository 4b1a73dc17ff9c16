"""Fee contracts (periods of rules), one-off charges, and the payout cases that give money back to a merchant with
their line-by-line statements (domain/fees.py, domain/fee_charges.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from posrefund.adapters.db.tables.columns import ID, auto_id, blank_string, id_key, merchant_ref, metadata, moment

fee_periods = Table(
    "fee_periods",
    metadata,
    id_key(),
    merchant_ref(),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date, nullable=True),  # inclusive; NULL: until the next period starts
    Column("consented_on", Date, nullable=True),  # the merchant agreed to it that day (NULL: not yet)
    blank_string("consent_ref", 64),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    Index("ix_fee_periods_merchant_from", "merchant_id", "effective_from", unique=True),
)

fee_rules = Table(
    "fee_rules",
    metadata,
    auto_id(),
    Column("period_id", ID, ForeignKey("fee_periods.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("card_type", String(8), nullable=False),
    Column("band_from_fen", BigInteger, nullable=False),
    Column("rate_ppm", Integer, nullable=False),
    Column("cap_fen", BigInteger, nullable=True),
    Column("min_fen", BigInteger, nullable=False),
    Column("returned_on_refund", Boolean, nullable=False),
    Index("ix_fee_rules_period_rule", "period_id", "channel", "card_type", "band_from_fen", unique=True),
)

one_off_charges = Table(
    "one_off_charges",
    metadata,
    id_key(),
    merchant_ref(index=True),
    Column("kind", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("charged_on", Date, nullable=False),
    Column("activated_on", Date, nullable=False),
    Column("terms_kind", String(16), nullable=False),
    Column("volume_fen", BigInteger, nullable=False),
    Column("within_days", Integer, nullable=False),
    Column("channels", String(64), nullable=False),  # comma-separated channel names the volume counts
    blank_string("description", 200),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
)

fee_payouts = Table(
    "fee_payouts",
    metadata,
    id_key(),
    merchant_ref(index=True),
    Column("kind", String(16), nullable=False),  # overcharge / charge
    Column("status", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    blank_string("charge_id", 40),
    Column("period_from", Date, nullable=True),
    Column("period_to", Date, nullable=True),
    Column("explanation", Text, nullable=False, server_default=""),
    Column("opened_by", ID, nullable=False),
    moment("opened_at"),
    blank_string("approved_by", 40),
    blank_string("paid_by", 40),
    blank_string("transfer_ref", 64),
    blank_string("reason", 400),
    moment("paid_at", nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
)

fee_payout_lines = Table(
    "fee_payout_lines",
    metadata,
    auto_id(),
    Column("payout_id", ID, ForeignKey("fee_payouts.id"), nullable=False, index=True),
    Column("line_id", BigInteger, nullable=False, index=True),  # the settlement line charged
    Column("line_no", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("charged_fen", BigInteger, nullable=False),
    Column("due_fen", BigInteger, nullable=False),
    Column("difference_fen", BigInteger, nullable=False),
    Column("rule", String(200), nullable=False),
)
