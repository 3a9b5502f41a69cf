"""re-asking Amazon for refused invoice PDFs; when the provider last issued a token set

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("token_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True))
    # Before this column the last refresh was only known as the row's last change.
    op.execute("UPDATE token_sets SET issued_at = updated_at")
    with op.batch_alter_table("token_sets", schema=None) as batch_op:
        batch_op.alter_column(
            "issued_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    with op.batch_alter_table("outbox_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attachment_refused_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("attachment_next_ask_at", sa.DateTime(timezone=True), nullable=True)
        )
    # PDFs refused before this revision: their window starts at the refusal, asked again soon.
    op.execute(
        "UPDATE outbox_documents SET attachment_refused_at = updated_at, "
        "attachment_next_ask_at = updated_at WHERE attachment = 'unavailable'"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_documents", schema=None) as batch_op:
        batch_op.drop_column("attachment_next_ask_at")
        batch_op.drop_column("attachment_refused_at")
    with op.batch_alter_table("token_sets", schema=None) as batch_op:
        batch_op.drop_column("issued_at")
