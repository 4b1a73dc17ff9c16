"""Telling customers: contacts and opt-outs, templates and gateways, notifications and their attempts,
follow-ups after the money should have arrived, the contact log and disputes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from posrefund.adapters.db.tables.columns import (
    ID,
    auto_id,
    blank_string,
    blank_text,
    case_ref,
    changed_by,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

notify_contacts = Table(
    "notify_contacts",
    metadata,
    case_ref(primary_key=True),
    Column("merchant_id", ID, nullable=False),
    Column("language", String(2), nullable=False, server_default="zh"),
    Column("email_enc", Text, nullable=True),
    blank_string("email_masked", 120),
    Column("wechat_openid_enc", Text, nullable=True),
    blank_string("wechat_openid_masked", 64),
    Column("opted_out", Boolean, nullable=False, server_default="0"),
    moment("updated_at"),
)

notify_optouts = Table(
    "notify_optouts",
    metadata,
    Column("merchant_id", ID, primary_key=True),
    Column("phone_index", String(64), primary_key=True),
    Column("source", String(32), nullable=False),
    moment("created_at"),
)

notify_templates = Table(
    "notify_templates",
    metadata,
    merchant_ref(primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("language", String(2), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    *changed_by(),
)

notify_gateways = Table(
    "notify_gateways",
    metadata,
    merchant_ref(primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("document", Text, nullable=False),  # JSON without the credential
    Column("credential_enc", Text, nullable=True),
    *changed_by(),
)

notifications = Table(
    "notifications",
    metadata,
    id_key(),
    Column("message_id", String(80), nullable=False, unique=True),
    Column("merchant_id", ID, nullable=False),
    Column("case_id", ID, ForeignKey("refunds.id"), nullable=True),  # none for a message to the merchant itself
    Column("event", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(2), nullable=False),
    Column("recipient_masked", String(120), nullable=False),
    Column("params", Text, nullable=False),  # JSON: event details (e.g. the rejection reason)
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed | skipped
    Column("attempts", Integer, nullable=False, server_default="0"),
    moment("next_attempt_at", nullable=True),
    blank_string("provider_message_id", 128),
    blank_string("last_error", 300),
    moment("created_at"),
    moment("sent_at", nullable=True),
    Index("ix_notifications_due", "status", "next_attempt_at"),
    Index("ix_notifications_case", "case_id"),
)

merchant_contacts = Table(
    "merchant_contacts",
    metadata,
    merchant_ref(primary_key=True),
    Column("language", String(2), nullable=False, server_default="zh"),
    Column("phone_enc", Text, nullable=True),  # the merchant's registered mobile, AES-GCM
    blank_string("phone_masked", 20),
    Column("email_enc", Text, nullable=True),
    blank_string("email_masked", 120),
    *changed_by(),
)

notify_attempts = Table(
    "notify_attempts",
    metadata,
    auto_id(),
    Column("notification_id", ID, ForeignKey("notifications.id"), nullable=False, index=True),
    moment("at"),
    Column("gateway", String(64), nullable=False),
    Column("result", String(16), nullable=False),  # sent | retry | failed
    blank_string("provider_message_id", 128),
    blank_string("error", 300),
)

followups = Table(
    "followups",
    metadata,
    case_ref(primary_key=True),
    Column("merchant_id", ID, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    moment("created_at"),
    moment("closed_at", nullable=True),
    blank_string("closed_by", 64),
    blank_string("closed_how", 16),  # customer | staff
    blank_text("note"),
    Index("ix_followups_merchant_status_due", "merchant_id", "status", "due_on"),
)

contact_log = Table(
    "contact_log",
    metadata,
    id_key(),
    Column("merchant_id", ID, nullable=False),
    case_ref(index=True),
    Column("kind", String(16), nullable=False),  # call | message | visit
    Column("direction", String(8), nullable=False),  # in | out
    Column("note", Text, nullable=False),
    Column("actor_id", ID, nullable=False),
    Column("actor_role", String(32), nullable=False),
    moment("at"),
)

disputes = Table(
    "disputes",
    metadata,
    id_key(),
    Column("merchant_id", ID, nullable=False),
    case_ref(index=True),
    Column("status", String(16), nullable=False),  # open | escalated | upheld | rejected
    Column("claim", Text, nullable=False),
    Column("claimed_fen", BigInteger, nullable=True),
    Column("evidence_ids", Text, nullable=False),  # JSON list
    blank_string("escalated_to", 16),
    blank_string("escalation_ref", 64),
    blank_text("outcome_reason"),
    Column("new_case_id", ID, nullable=True),
    Column("opened_by", ID, nullable=False),
    moment("opened_at"),
    moment("updated_at"),
    moment("closed_at", nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_disputes_merchant_status_opened", "merchant_id", "status", "opened_at"),
)
