"""merchant onboarding: the business licence's credit code and the settlement account (bank, holder, last four
and a keyed fingerprint; never the number)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

COLUMNS = (
    ("licence_no", 18),
    ("settlement_bank", 100),
    ("settlement_account_name", 200),
    ("settlement_account_masked", 12),
    ("settlement_account_fingerprint", 64),
)


def upgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
