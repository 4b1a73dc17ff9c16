"""Abnormal WeChat Pay refunds sent to a bank card (异常退款): one application per case. The card number is never
stored (it goes to WeChat Pay encrypted and is gone; a second application is typed again): only its last four;
the holder's name and who consented as PII ciphertext."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from posrefund.adapters.db.tables.columns import ID, blank_string, blank_text, case_ref, merchant_ref, metadata, moment

abnormal_refund_applications = Table(
    "abnormal_refund_applications",
    metadata,
    case_ref(primary_key=True),
    merchant_ref(index=True),
    Column("kind", String(24), nullable=False),  # USER_BANK_CARD | MERCHANT_BANK_CARD
    blank_string("bank_type", 16),
    blank_string("account_masked", 12),
    blank_text("real_name_enc"),
    Column("consent_by_enc", Text, nullable=False),
    Column("consent_how", String(16), nullable=False),  # phone | counter
    moment("consent_at"),
    Column("applied_by", ID, nullable=False),
    moment("applied_at"),
    blank_text("reason"),
    Column("status", String(16), nullable=False),  # sent | accepted | declined
    Column("sends", Integer, nullable=False, server_default="0"),
    blank_string("last_code", 64),
    moment("updated_at"),
)
