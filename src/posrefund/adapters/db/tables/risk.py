"""Risk warnings (风险预警) on refunds: each merchant's rule settings, the alerts the rules raise and the refund
cases each alert points at."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from posrefund.adapters.db.tables.columns import (
    ID,
    blank_string,
    blank_text,
    changed_by,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

# A merchant's overrides of the rules' defaults (on/off and thresholds), one JSON document with a version.
risk_settings = Table(
    "risk_settings",
    metadata,
    merchant_ref(primary_key=True),
    Column("document", Text, nullable=False),
    Column("version", Integer, nullable=False),
    *changed_by(),
)

# One alert: a rule saw a pattern around one subject (a cashier, a terminal, a card, a phone) in a window.
risk_alerts = Table(
    "risk_alerts",
    metadata,
    id_key(),
    merchant_ref(),
    Column("rule", String(40), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(80), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    moment("window_start"),
    moment("window_end"),
    Column("evidence", Text, nullable=False),  # JSON: the measures and thresholds behind the alert
    blank_string("assigned_to", 40),
    blank_text("decision_reason"),
    blank_string("decided_by", 40),
    moment("decided_at", nullable=True),
    Column("version", Integer, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    Index("ix_risk_alerts_merchant_status_created", "merchant_id", "status", "created_at"),
    Index("ix_risk_alerts_merchant_subject", "merchant_id", "rule", "subject_kind", "subject_id"),
)

# The refund cases an alert is about (found by the rule, or linked by a person while investigating).
risk_alert_cases = Table(
    "risk_alert_cases",
    metadata,
    Column("alert_id", ID, ForeignKey("risk_alerts.id"), primary_key=True),
    Column("case_id", ID, ForeignKey("refunds.id"), primary_key=True, index=True),
    blank_string("linked_by", 40),
)

# A refund stopped before any money moves because a high alert names it: the worker does not hand it to the
# channel while it is ``held``; a second person (neither its requester nor its approver) releases or rejects it.
risk_holds = Table(
    "risk_holds",
    metadata,
    Column("case_id", ID, ForeignKey("refunds.id"), primary_key=True),
    merchant_ref(),
    Column("alert_id", ID, ForeignKey("risk_alerts.id"), nullable=False),
    Column("status", String(16), nullable=False),  # held, released, rejected
    moment("held_at"),
    blank_string("decided_by", 40),
    moment("decided_at", nullable=True),
    blank_text("reason"),
    Index("ix_risk_holds_merchant_status", "merchant_id", "status", "held_at"),
)

# Once per interval across every worker: the scheduled scan of each merchant's rules is claimed in this table
# (compare-and-set on ``next_at``), so two workers' housekeeping never scan the same merchant at once.
risk_scan_schedule = Table(
    "risk_scan_schedule",
    metadata,
    merchant_ref(primary_key=True),
    moment("next_at"),
    moment("last_at", nullable=True),
    blank_string("claimed_by", 40),
)
