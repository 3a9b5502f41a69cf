"""organisation context reads kept between runs

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "context_reads",
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_context_reads_xero_connection_id_xero_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("xero_connection_id", name=op.f("pk_context_reads")),
    )


def downgrade() -> None:
    op.drop_table("context_reads")
