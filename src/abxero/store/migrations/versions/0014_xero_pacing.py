"""shared Xero pacing: call starts, concurrency slots and holds

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xero_pace_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("counted_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xero_pace_calls")),
    )
    op.create_index(
        "ix_xero_pace_calls_scope_counted_at", "xero_pace_calls", ["scope", "counted_at"]
    )
    op.create_index("ix_xero_pace_calls_counted_at", "xero_pace_calls", ["counted_at"])
    op.create_table(
        "xero_pace_slots",
        sa.Column("slot_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("slot_id", name=op.f("pk_xero_pace_slots")),
    )
    op.create_index(
        op.f("ix_xero_pace_slots_tenant_id"), "xero_pace_slots", ["tenant_id"], unique=False
    )
    op.create_table(
        "xero_pace_holds",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_xero_pace_holds")),
    )


def downgrade() -> None:
    op.drop_table("xero_pace_holds")
    op.drop_index(op.f("ix_xero_pace_slots_tenant_id"), table_name="xero_pace_slots")
    op.drop_table("xero_pace_slots")
    op.drop_index("ix_xero_pace_calls_counted_at", table_name="xero_pace_calls")
    op.drop_index("ix_xero_pace_calls_scope_counted_at", table_name="xero_pace_calls")
    op.drop_table("xero_pace_calls")
