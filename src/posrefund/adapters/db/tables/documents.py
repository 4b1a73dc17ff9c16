"""Printable documents' records: the refund applications to the bank (退费申请) on a case, and the refund-cause
summaries' subscriptions and deliveries (one row per subscription and period: the claim that makes a summary
go out once, however many workers run)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from posrefund.adapters.db.tables.columns import (
    ID,
    blank_string,
    blank_text,
    case_ref,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

bank_applications = Table(
    "bank_applications",
    metadata,
    id_key(),
    merchant_ref(),
    case_ref(index=True),
    Column("status", String(16), nullable=False),  # prepared | submitted | accepted | rejected
    Column("reason", String(24), nullable=False),  # why the bank: account_closed | too_old | issuer_dispute | other
    blank_text("statement"),
    Column("evidence_ids", Text, nullable=False),  # JSON list of the case's evidence listed on the form
    Column("attachments", Text, nullable=False),  # JSON list of paper documents handed over with it
    Column("submitted_on", Date, nullable=True),
    blank_string("channel", 24),
    blank_string("bank", 100),
    blank_string("bank_reference", 64),
    Column("deadline", Date, nullable=True),  # the bank's answer is due (Chinese business days)
    Column("outcome_on", Date, nullable=True),
    blank_text("bank_reply"),
    Column("prepared_by", ID, nullable=False),
    moment("prepared_at"),
    Column("updated_by", ID, nullable=False),
    moment("updated_at"),
    Column("version", Integer, nullable=False),
    Index("ix_bank_applications_merchant_status_deadline", "merchant_id", "status", "deadline"),
)

summary_subscriptions = Table(
    "summary_subscriptions",
    metadata,
    id_key(),
    merchant_ref(),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("cadence", String(8), nullable=False),  # weekly | monthly
    Column("store_ids", Text, nullable=False),  # JSON list; [] = every store
    Column("email_enc", Text, nullable=False),
    Column("email_masked", String(200), nullable=False),
    Column("language", String(8), nullable=False),
    Column("active", Boolean, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    Index("ix_summary_subscriptions_user_cadence", "merchant_id", "user_id", "cadence", unique=True),
    Index("ix_summary_subscriptions_cadence_active", "cadence", "active"),
)

summary_deliveries = Table(
    "summary_deliveries",
    metadata,
    Column("subscription_id", ID, ForeignKey("summary_subscriptions.id"), nullable=False),
    Column("period_key", String(10), nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("status", String(8), nullable=False),  # claimed | sent | failed
    moment("claimed_at"),
    moment("sent_at", nullable=True),
    Column("attempts", Integer, nullable=False),
    blank_text("error"),
    Column("message_id", String(120), nullable=False),
    PrimaryKeyConstraint("subscription_id", "period_key"),
    Index("ix_summary_deliveries_merchant_period", "merchant_id", "period_key"),
)
