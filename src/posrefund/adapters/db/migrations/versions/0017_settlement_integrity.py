"""settlement integrity: lines keyed by the channel's references, withdrawn files, stale runs

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


# The lines imported before lines had keys get the keys the import gives now (adapters/settlement/model.py,
# line_key); a line an earlier line already holds becomes a shadow of it (it was counted twice: a file imported
# again in another copy); two lines of one file with the same keys keep keys of their own and count as they did.
LEGACY_KEYS = (
    """UPDATE settlement_lines SET line_key = CASE
        WHEN (SELECT f.source FROM settlement_files f
            WHERE f.id = settlement_lines.file_id) = 'card'
            AND (voucher_no <> '' OR rrn <> '')
            THEN 'card|' || kind || '|' || REPLACE(CAST(local_date AS VARCHAR(10)), '-', '')
            || '|' || terminal_no || '|' || voucher_no || '|' || rrn
        WHEN (SELECT f.source FROM settlement_files f
            WHERE f.id = settlement_lines.file_id) <> 'card'
            AND COALESCE(NULLIF(channel_trade_no, ''), merchant_order_no) <> ''
            AND (kind <> 'refund' OR CASE WHEN kind = 'refund'
            THEN COALESCE(NULLIF(channel_refund_no, ''), merchant_refund_no) ELSE '' END <> '')
            THEN (SELECT f.source FROM settlement_files f
            WHERE f.id = settlement_lines.file_id) || '|' || kind
            || '|' || COALESCE(NULLIF(channel_trade_no, ''), merchant_order_no)
            || '|' || CASE WHEN kind = 'refund'
            THEN COALESCE(NULLIF(channel_refund_no, ''), merchant_refund_no) ELSE '' END
        ELSE (SELECT f.source FROM settlement_files f
            WHERE f.id = settlement_lines.file_id) || '|' || kind || '|raw|' || raw_hash END""",
    """UPDATE settlement_lines SET shadow = file_id
        WHERE id NOT IN (SELECT min(id) FROM settlement_lines GROUP BY merchant_id, line_key)""",
    """UPDATE settlement_lines SET line_key = 'line:' || CAST(id AS VARCHAR(20)), shadow = ''
        WHERE shadow <> '' AND EXISTS (
        SELECT 1 FROM settlement_lines c WHERE c.merchant_id = settlement_lines.merchant_id
        AND c.line_key = settlement_lines.line_key AND c.shadow = ''
        AND c.file_id = settlement_lines.file_id)""",
    """UPDATE settlement_lines SET line_key = 'line:' || CAST(id AS VARCHAR(20)), shadow = ''
        WHERE shadow <> '' AND id NOT IN (
        SELECT min(id) FROM settlement_lines WHERE shadow <> '' GROUP BY merchant_id, line_key, shadow)""",
    """UPDATE settlement_files SET overlap_count = (
        SELECT count(*) FROM settlement_lines l WHERE l.file_id = settlement_files.id AND l.shadow <> '')""",
)


def upgrade() -> None:
    with op.batch_alter_table("settlement_files") as batch:
        batch.add_column(sa.Column("overlap_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=40), server_default="", nullable=False))
        batch.add_column(sa.Column("withdraw_reason", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("settlement_lines") as batch:
        batch.add_column(sa.Column("line_key", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("occurrence", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("shadow", sa.String(length=40), server_default="", nullable=False))
    for statement in LEGACY_KEYS:
        op.execute(statement)
    with op.batch_alter_table("settlement_lines") as batch:
        batch.create_index(
            batch.f("ix_settlement_lines_line_key"), ["merchant_id", "line_key", "occurrence", "shadow"], unique=True
        )
    with op.batch_alter_table("recon_runs") as batch:
        batch.add_column(sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stale_reason", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("recon_runs") as batch:
        batch.drop_column("stale_reason")
        batch.drop_column("stale_at")
    with op.batch_alter_table("settlement_lines") as batch:
        batch.drop_index(batch.f("ix_settlement_lines_line_key"))
        batch.drop_column("shadow")
        batch.drop_column("occurrence")
        batch.drop_column("line_key")
    with op.batch_alter_table("settlement_files") as batch:
        batch.drop_column("withdraw_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
        batch.drop_column("overlap_count")
