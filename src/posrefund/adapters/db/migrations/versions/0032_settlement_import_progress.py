"""settlement files: when an import finished and when its importer last wrote a batch, so a file whose import
was killed midway is told apart from one imported whole (it used to be recognised by its fingerprint and answered
as a duplicate, and its half-staged lines held the place of the same lines in later files); the files imported
so far are finished as of their import (one without dates, lines or withdrawal is the trace of a killed import
and stays unfinished: the next import of the merchant clears it)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_files", schema=None) as batch:
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE settlement_files SET finished_at = imported_at "
        "WHERE first_date IS NOT NULL OR bad_count > 0 OR withdrawn_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("settlement_files", schema=None) as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("finished_at")
