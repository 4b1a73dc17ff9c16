"""Indexes every hot read of a growing merchant walks: a case's audit events by (chain, case, seq), and the
refund lists by each filter they take, each ending in the (created_at, id) key their cursor pages on. The
planner's statistics are refreshed afterwards (``migrate.upgrade`` runs ANALYZE), so it knows to use them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 16:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_NEW_REFUNDS = {
    "ix_refunds_merchant_created_id": ["merchant_id", "created_at", "id"],
    "ix_refunds_merchant_status_created_id": ["merchant_id", "status", "created_at", "id"],
    "ix_refunds_merchant_phone_created": ["merchant_id", "customer_phone_index", "created_at", "id"],
    "ix_refunds_merchant_sale_created": ["merchant_id", "sale_id", "created_at", "id"],
    "ix_refunds_merchant_requester_created": ["merchant_id", "requested_by", "created_at", "id"],
}
# The indexes the new ones extend (each a prefix of one above).
_OLD_REFUNDS = {
    "ix_refunds_merchant_created": ["merchant_id", "created_at"],
    "ix_refunds_merchant_status_created": ["merchant_id", "status", "created_at"],
    "ix_refunds_merchant_phone": ["merchant_id", "customer_phone_index"],
    "ix_refunds_merchant_requested_by_created_at": ["merchant_id", "requested_by", "created_at"],  # risk's
}


def upgrade() -> None:
    for name, columns in _NEW_REFUNDS.items():
        op.create_index(name, "refunds", columns)
    for name in _OLD_REFUNDS:
        op.drop_index(name, table_name="refunds")
    op.create_index("ix_audit_events_chain_case_id", "audit_events", ["chain", "case_id", "id"])
    op.drop_index("ix_audit_events_chain_case", table_name="audit_events")


def downgrade() -> None:
    op.create_index("ix_audit_events_chain_case", "audit_events", ["chain", "case_id"])
    op.drop_index("ix_audit_events_chain_case_id", table_name="audit_events")
    for name, columns in _OLD_REFUNDS.items():
        op.create_index(name, "refunds", columns)
    for name in _NEW_REFUNDS:
        op.drop_index(name, table_name="refunds")
