"""batches keep the query string they are sent with

A batch is resent byte for byte under its Idempotency-Key, so the query (``summarizeErrors``,
``unitdp``) is part of what is stored. Batches stored before this column existed were sent with
``summarizeErrors=false`` only, and are resent with exactly that.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(
            sa.Column(
                "query",
                sa.String(length=200),
                nullable=False,
                server_default="summarizeErrors=false",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("query")
