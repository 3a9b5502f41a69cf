"""legal-entity routing: entity routes, and each source row's legal entity and route

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-05
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_routes",
        sa.Column("home_connection_id", sa.Integer(), nullable=False),
        sa.Column("entity_key", sa.String(length=200), nullable=False),
        sa.Column("entity_name", sa.String(length=200), nullable=False),
        sa.Column("target_connection_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_entity_routes_home_connection_id_xero_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["target_connection_id"],
            ["xero_connections.id"],
            name=op.f("fk_entity_routes_target_connection_id_xero_connections"),
        ),
        sa.PrimaryKeyConstraint("home_connection_id", "entity_key", name=op.f("pk_entity_routes")),
    )
    op.create_index(
        op.f("ix_entity_routes_target_connection_id"), "entity_routes", ["target_connection_id"]
    )
    with op.batch_alter_table("source_transactions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("legal_entity", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("routed_to", sa.Integer(), nullable=True))
    _fill_legal_entities()


def _fill_legal_entities(chunk: int = 500) -> None:
    """Rows stored before this revision get their record's ``legalEntityName``, so every
    transaction already fetched is routed by its entity, not as one without."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, raw FROM source_transactions WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": chunk},
        ).fetchall()
        if not rows:
            return
        for row_id, raw in rows:
            name = _entity_name(raw)
            if name:
                bind.execute(
                    sa.text("UPDATE source_transactions SET legal_entity = :name WHERE id = :id"),
                    {"name": name, "id": row_id},
                )
        last = rows[-1][0]


def _entity_name(raw: str) -> str:
    """As ``sync/routing.py::entity_name`` (kept here: a migration must not change later)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return ""
    value = record.get("legalEntityName") if isinstance(record, dict) else None
    return " ".join(value.split())[:200] if isinstance(value, str) else ""


def downgrade() -> None:
    with op.batch_alter_table("source_transactions", schema=None) as batch_op:
        batch_op.drop_column("routed_to")
        batch_op.drop_column("legal_entity")
    op.drop_index(op.f("ix_entity_routes_target_connection_id"), table_name="entity_routes")
    op.drop_table("entity_routes")
