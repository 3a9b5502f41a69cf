"""invoice details apart from the raw transaction, and why an attachment failed

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invoice_number", sa.Text(), nullable=False),
        sa.Column("consolidated_number", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("payment_status", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_invoice_details_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_details")),
        sa.UniqueConstraint(
            "xero_connection_id",
            "transaction_id",
            name=op.f("uq_invoice_details_xero_connection_id_transaction_id"),
        ),
    )
    with op.batch_alter_table("outbox_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attachment_error", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_documents", schema=None) as batch_op:
        batch_op.drop_column("attachment_error")
    op.drop_table("invoice_details")
