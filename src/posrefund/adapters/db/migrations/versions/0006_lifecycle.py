"""lifecycle: token generation and refresh tokens, forced password change, providers, the rerouting person

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("provider_id", sa.String(length=32), server_default="", nullable=False))
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(length=32), server_default="", nullable=False))
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("rerouted_by", sa.String(length=40), server_default="", nullable=False))
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
    )
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refresh_tokens_user_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("rerouted_by")
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("provider_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("provider_id")
        batch.drop_column("must_change_password")
        batch.drop_column("token_generation")
