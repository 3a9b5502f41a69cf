"""rollbacks and their actions (what was removed from Xero, what was kept and why)

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("range_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("range_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_rollbacks_xero_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollbacks")),
    )
    op.create_index(
        "ix_rollbacks_connection", "rollbacks", ["xero_connection_id", "status"], unique=False
    )
    op.create_table(
        "rollback_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollback_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("doc_key", sa.String(length=160), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("xero_id", sa.String(length=64), nullable=False),
        sa.Column("parent_xero_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["rollback_id"],
            ["rollbacks.id"],
            name=op.f("fk_rollback_actions_rollback_id_rollbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollback_actions")),
        sa.UniqueConstraint(
            "rollback_id", "doc_key", name=op.f("uq_rollback_actions_rollback_id_doc_key")
        ),
    )
    op.create_index(
        op.f("ix_rollback_actions_rollback_id"),
        "rollback_actions",
        ["rollback_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rollback_actions_rollback_id"), table_name="rollback_actions")
    op.drop_table("rollback_actions")
    op.drop_index("ix_rollbacks_connection", table_name="rollbacks")
    op.drop_table("rollbacks")
