"""server-side web sessions, handled webhook deliveries, Amazon account keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_received_at"), "webhook_deliveries", ["received_at"]
    )
    op.create_table(
        "amazon_account_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("amazon_connection_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["amazon_connection_id"],
            ["amazon_connections.id"],
            name=op.f("fk_amazon_account_keys_amazon_connection_id_amazon_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_amazon_account_keys")),
    )
    op.create_index(
        op.f("ix_amazon_account_keys_amazon_connection_id"),
        "amazon_account_keys",
        ["amazon_connection_id"],
    )


def downgrade() -> None:
    op.drop_table("amazon_account_keys")
    op.drop_table("webhook_deliveries")
    op.drop_table("web_sessions")
