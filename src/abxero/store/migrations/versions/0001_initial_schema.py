"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "token_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_sets")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_user_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("xero_user_id", name=op.f("uq_users_xero_user_id")),
    )
    op.create_table(
        "xero_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_name", sa.String(length=200), nullable=False),
        sa.Column("xero_connection_uid", sa.String(length=64), nullable=False),
        sa.Column("short_code", sa.String(length=32), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=False),
        sa.Column("token_set_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("setup_step", sa.String(length=32), nullable=False),
        sa.Column("sync_interval_minutes", sa.Integer(), nullable=False),
        sa.Column("parked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_xero_connections_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["token_set_id"],
            ["token_sets.id"],
            name=op.f("fk_xero_connections_token_set_id_token_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xero_connections")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_xero_connections_tenant_id")),
    )
    op.create_table(
        "amazon_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("marketplace_id", sa.String(length=32), nullable=False),
        sa.Column("business_id", sa.String(length=128), nullable=False),
        sa.Column("business_name", sa.String(length=200), nullable=False),
        sa.Column("token_set_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_set_id"],
            ["token_sets.id"],
            name=op.f("fk_amazon_connections_token_set_id_token_sets"),
        ),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_amazon_connections_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_connections")),
        sa.UniqueConstraint("business_id", name=op.f("uq_amazon_connections_business_id")),
        sa.UniqueConstraint(
            "xero_connection_id", name=op.f("uq_amazon_connections_xero_connection_id")
        ),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("doc_ids", sa.JSON(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_batches_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_batches_idempotency_key")),
    )
    op.create_table(
        "bookmarks",
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("feed_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("page_token", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_bookmarks_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("xero_connection_id", name=op.f("pk_bookmarks")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_events_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_recent", ["xero_connection_id", "created_at"], unique=False
        )

    op.create_table(
        "mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_mappings_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mappings")),
        sa.UniqueConstraint(
            "xero_connection_id", "version", name=op.f("uq_mappings_xero_connection_id_version")
        ),
    )
    op.create_table(
        "source_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("feed_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("instrument_key", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column("order_ids", sa.Text(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("planned_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_source_transactions_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_transactions")),
        sa.UniqueConstraint(
            "xero_connection_id",
            "transaction_id",
            name=op.f("uq_source_transactions_xero_connection_id_transaction_id"),
        ),
    )
    with op.batch_alter_table("source_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_source_status", ["xero_connection_id", "status"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("range_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("range_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_sync_runs_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "user_tenants",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_tenants_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_user_tenants_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("user_id", "xero_connection_id", name=op.f("pk_user_tenants")),
    )
    op.create_table(
        "outbox_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("doc_key", sa.String(length=160), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("xero_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attachment", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_outbox_documents_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_outbox_documents_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_documents")),
        sa.UniqueConstraint(
            "xero_connection_id",
            "doc_key",
            name=op.f("uq_outbox_documents_xero_connection_id_doc_key"),
        ),
        sa.UniqueConstraint(
            "xero_connection_id",
            "transaction_id",
            "role",
            name=op.f("uq_outbox_documents_xero_connection_id_transaction_id_role"),
        ),
    )
    with op.batch_alter_table("outbox_documents", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status", ["xero_connection_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status")

    op.drop_table("outbox_documents")
    op.drop_table("user_tenants")
    op.drop_table("sync_runs")
    with op.batch_alter_table("source_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_source_status")

    op.drop_table("source_transactions")
    op.drop_table("mappings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_recent")

    op.drop_table("events")
    op.drop_table("bookmarks")
    op.drop_table("batches")
    op.drop_table("amazon_connections")
    op.drop_table("xero_connections")
    op.drop_table("users")
    op.drop_table("token_sets")
    op.drop_table("leases")
