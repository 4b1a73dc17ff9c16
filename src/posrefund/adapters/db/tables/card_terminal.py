"""What the card adapter keeps as a POS terminal: its trace and batch counters and the journal of every void and
refund it sent (ports/terminal.py says why they must survive a crash)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from posrefund.adapters.db.tables.columns import auto_id, blank_string, metadata, moment

card_terminal_counters = Table(
    "card_terminal_counters",
    metadata,
    Column("terminal_id", String(8), primary_key=True),
    Column("batch_no", Integer, nullable=False),  # the open batch (60.2), 1…999999
    Column("trace_no", Integer, nullable=False),  # the last trace number handed out (11), 0…999999
)

card_terminal_journal = Table(
    "card_terminal_journal",
    metadata,
    auto_id(),
    Column("terminal_id", String(8), nullable=False),
    Column("merchant_id", String(15), nullable=False),
    Column("batch_no", String(6), nullable=False),
    Column("trace_no", String(6), nullable=False),
    Column("refund_no", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("fields", Text, nullable=False),  # the message as sent, JSON, without its MAC
    Column("state", String(12), nullable=False),
    Column("sends", Integer, nullable=False, server_default="0"),
    Column("reversal_tries", Integer, nullable=False, server_default="0"),
    blank_string("response_code", 2),
    blank_string("rrn", 12),
    blank_string("auth_code", 6),
    blank_string("host_time", 10),
    moment("created_at"),
    moment("updated_at"),
    UniqueConstraint("terminal_id", "batch_no", "trace_no"),
    Index("ix_card_terminal_journal_refund_no", "refund_no"),
)
