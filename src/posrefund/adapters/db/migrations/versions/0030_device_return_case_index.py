"""device returns found by their refund case: the notification worker asks, for every refund it sees paid,
whether it was a device return's, and without this index each ask read the whole table

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 00:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_device_returns_refund_case_id", "device_returns", ["refund_case_id"])


def downgrade() -> None:
    op.drop_index("ix_device_returns_refund_case_id", table_name="device_returns")
