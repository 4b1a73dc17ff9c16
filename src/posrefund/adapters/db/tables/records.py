"""What the service keeps about itself: the audit chains, the outbox, idempotent answers, channel callbacks
already seen and the working-day calendar."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from posrefund.adapters.db.tables.columns import ID, auto_id, changed_by, metadata, moment

callback_notices = Table(
    "callback_notices",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("notice_id", String(128), primary_key=True),
    Column("refund_no", String(64), nullable=False),
    moment("received_at"),
)

calendar_overrides = Table(
    "calendar_overrides",
    metadata,
    Column("day", Date, primary_key=True),
    Column("workday", Boolean, nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    *changed_by(),
)

UNCHAINED = text("seq IS NULL")  # the events the sequencer has still to chain

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("chain", String(40), primary_key=True),  # merchant id, or "platform"
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# An event is written with its refund, unchained (no seq, prev_hash, hash) on PostgreSQL: its id orders it until
# the sequencer gives it its place in the chain after commit (repositories/audit.py).
audit_events = Table(
    "audit_events",
    metadata,
    auto_id(),
    Column("chain", String(40), nullable=False),
    Column("seq", BigInteger, nullable=True),
    Column("case_id", ID, nullable=True),
    Column("action", String(64), nullable=False),
    Column("actor_id", ID, nullable=False),
    Column("actor_role", String(32), nullable=False),
    moment("at"),
    Column("before", String(20), nullable=True),
    Column("after", String(20), nullable=True),
    Column("reason", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
    UniqueConstraint("chain", "seq"),
    # A case's events in the order they were written (ids), found without walking the merchant's whole chain.
    Index("ix_audit_events_chain_case_id", "chain", "case_id", "id"),
    # The audit browser reads a merchant's events newest first, a page at a time from the cursor's id.
    Index("ix_audit_events_chain_id", "chain", "id"),
    Index("ix_audit_events_unchained", "id", postgresql_where=UNCHAINED, sqlite_where=UNCHAINED),
)

# Signed statements "chain X had N events ending in hash H at time T" (HMAC key outside the database): a
# truncated, emptied or rewritten chain no longer matches the last one; exported copies survive the database.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    auto_id(),
    Column("chain", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("events", BigInteger, nullable=False),
    moment("at"),
    Column("kid", String(16), nullable=False),
    Column("mac", String(64), nullable=False),
    Index("ix_audit_checkpoints_chain_seq", "chain", "seq"),
)

outbox = Table(
    "outbox",
    metadata,
    auto_id(),
    Column("topic", String(64), nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("case_id", ID, nullable=True),
    Column("payload", Text, nullable=False),
    moment("created_at"),
    moment("available_at"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    moment("done_at", nullable=True),
    Index("ix_outbox_pending", "done_at", "available_at"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    moment("created_at"),
)
