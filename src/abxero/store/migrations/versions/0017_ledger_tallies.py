"""ledger tallies kept by triggers, seller tallies, and indexes for bounded page reads

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

The manage and mapping pages used to count, sum and group every stored transaction of an
organisation on each view. From here the counts and sums are kept as the rows change:

* ``source_tallies``: per organisation, status, reason code and reason, the number of stored
  transactions and the sum of their amounts in cents (the status counts, the held groups);
* ``source_orders``: each Amazon order id of a stored transaction, so a refund finds the bills
  of its order through an index instead of ``LIKE '%…%'`` over every record;
* ``instrument_tallies``: per organisation, payment instrument, currency and status, the same
  (the payment methods seen, with their waiting counts);

both maintained by triggers on ``source_transactions``: row triggers on SQLite
(https://www.sqlite.org/lang_createtrigger.html), statement triggers over transition tables on
PostgreSQL (``REFERENCING NEW TABLE``, https://www.postgresql.org/docs/current/sql-createtrigger.html),
and ``seller_tallies``, kept by
an ORM listener (``store/tallies.py``) because a seller is only known by parsing the stored
record. A key may have more than one row (two PostgreSQL transactions adding the same new key
at once both insert); readers always add the rows of a key up, and a decrement touches one row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLIES = {
    "source_tallies": ("xero_connection_id", "status", "reason_code", "reason"),
    "instrument_tallies": ("xero_connection_id", "instrument_key", "currency", "status"),
}
WATCHED = ("xero_connection_id", "status", "reason_code", "reason", "instrument_key", "currency")


def _cents(row: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"COALESCE(ROUND({row}.amount * 100)::bigint, 0)"
    return f"COALESCE(CAST(ROUND({row}.amount * 100) AS INTEGER), 0)"


def _same_key(table: str, row: str) -> str:
    return " AND ".join(f"{column} = {row}.{column}" for column in TALLIES[table])


def _remove(table: str, row: str, dialect: str) -> str:
    """Take ``row`` out of its tally: one row of the key gives up one and its cents."""
    key = _same_key(table, row)
    return (
        f"UPDATE {table} SET n = n - 1, total_cents = total_cents - {_cents(row, dialect)} "  # nosec B608
        f"WHERE id = (SELECT id FROM {table} WHERE {key} ORDER BY n DESC LIMIT 1);\n"
        f"DELETE FROM {table} WHERE {key} AND n = 0 AND total_cents = 0;\n"
    )


def _add(table: str, row: str, dialect: str) -> str:
    """Add ``row`` to its tally, making the key's row when there is none."""
    key = _same_key(table, row)
    columns = ", ".join(TALLIES[table])
    values = ", ".join(f"{row}.{column}" for column in TALLIES[table])
    return (
        f"INSERT INTO {table} ({columns}, n, total_cents) SELECT {values}, 0, 0 "  # nosec B608
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {key});\n"
        f"UPDATE {table} SET n = n + 1, total_cents = total_cents + {_cents(row, dialect)} "
        f"WHERE id = (SELECT id FROM {table} WHERE {key} ORDER BY id LIMIT 1);\n"
    )


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in WATCHED)
    watched = ", ".join((*WATCHED, "amount"))
    removes = "".join(_remove(table, "OLD", "sqlite") for table in TALLIES)
    adds = "".join(_add(table, "NEW", "sqlite") for table in TALLIES)
    return [
        f"CREATE TRIGGER tally_sources_insert AFTER INSERT ON source_transactions BEGIN\n{adds}END",
        "CREATE TRIGGER tally_sources_delete AFTER DELETE ON source_transactions "
        f"BEGIN\n{removes}END",
        f"CREATE TRIGGER tally_sources_update AFTER UPDATE OF {watched} ON source_transactions "
        f"WHEN {changed} OR OLD.amount IS NOT NEW.amount "
        f"BEGIN\n{removes}{adds}END",
    ]


def _pg_delta(table: str, sources: tuple[str, ...]) -> str:
    """The net change per key that one statement makes (rows in ``new_rows`` add, rows in
    ``old_rows`` take away); keys whose change is nothing are left out."""
    key = ", ".join(TALLIES[table])
    parts = []
    for source in sources:
        sign = "" if source == "new_rows" else "-"
        parts.append(
            f"SELECT {key}, {sign}1 AS n, {sign}COALESCE(ROUND(amount * 100)::bigint, 0) AS c "  # nosec B608
            f"FROM {source}"
        )
    union = " UNION ALL ".join(parts)
    return (
        f"WITH delta AS (SELECT {key}, SUM(n) AS n, SUM(c) AS c FROM ({union}) AS moved "  # nosec B608
        f"GROUP BY {key} HAVING SUM(n) <> 0 OR SUM(c) <> 0) "
    )


def _pg_apply(table: str, sources: tuple[str, ...]) -> str:
    """Add each key's net change to its first row, make the rows of new keys, and drop rows
    left at nothing."""
    key = ", ".join(TALLIES[table])
    same = " AND ".join(f"x.{column} = d.{column}" for column in TALLIES[table])
    delta = _pg_delta(table, sources)
    return (
        f"{delta}UPDATE {table} AS t SET n = t.n + d.n, total_cents = t.total_cents + d.c "  # nosec B608
        f"FROM delta AS d WHERE t.id = (SELECT min(x.id) FROM {table} AS x WHERE {same});\n"
        f"{delta}INSERT INTO {table} ({key}, n, total_cents) SELECT {key}, n, c FROM delta AS d "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS x WHERE {same});\n"
        f"DELETE FROM {table} WHERE n = 0 AND total_cents = 0;\n"
    )


def _postgresql_triggers() -> list[str]:
    """Statement triggers over transition tables: a statement that writes many rows moves
    each key once (row triggers would update one tally row once per row, and PostgreSQL keeps
    every version of it until the transaction ends)."""
    made = []
    for operation, sources, referencing in (
        ("insert", ("new_rows",), "NEW TABLE AS new_rows"),
        ("delete", ("old_rows",), "OLD TABLE AS old_rows"),
        ("update", ("new_rows", "old_rows"), "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ):
        body = "".join(_pg_apply(table, sources) for table in TALLIES)
        made += [
            f"CREATE FUNCTION tally_sources_{operation}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}RETURN NULL;\nEND\n$$",
            f"CREATE TRIGGER tally_sources_{operation} AFTER {operation.upper()} ON "
            f"source_transactions REFERENCING {referencing} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION tally_sources_{operation}()",
        ]
    return made


def _backfill(table: str) -> str:
    columns = ", ".join(TALLIES[table])
    cents = (
        "COALESCE(SUM(ROUND(amount * 100)::bigint), 0)"
        if op.get_bind().dialect.name == "postgresql"
        else "COALESCE(SUM(CAST(ROUND(amount * 100) AS INTEGER)), 0)"
    )
    return (
        f"INSERT INTO {table} ({columns}, n, total_cents) "  # nosec B608
        f"SELECT {columns}, COUNT(*), {cents} FROM source_transactions GROUP BY {columns}"
    )


def _tally_table(table: str, *keys: sa.Column[object]) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        *keys,
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{table}_key", table, list(TALLIES[table][:2]))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _tally_table(
        "source_tallies",
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    _tally_table(
        "instrument_tallies",
        sa.Column("instrument_key", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "seller_tallies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("seller_key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("transactions", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("charged_lines", sa.BigInteger(), nullable=False),
        sa.Column("taxed_lines", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.String(40), nullable=False),
        sa.Column("tax", sa.String(40), nullable=False),
    )
    op.create_index("ix_seller_tallies_key", "seller_tallies", ["xero_connection_id"])
    op.create_table(
        "source_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("xero_connection_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(128), nullable=False),
    )
    op.create_index(
        "ix_source_orders_order", "source_orders", ["xero_connection_id", "order_id"]
    )
    op.create_index(
        "ix_source_orders_transaction", "source_orders", ["xero_connection_id", "transaction_id"]
    )
    # Bounded, ordered page reads: recent activity, held samples by reason, refused documents.
    op.create_index(
        "ix_source_status_updated",
        "source_transactions",
        ["xero_connection_id", "status", "updated_at"],
    )
    op.create_index(
        "ix_source_status_reason_date",
        "source_transactions",
        ["xero_connection_id", "status", "reason_code", "transaction_date"],
    )
    op.create_index(
        "ix_outbox_status_updated",
        "outbox_documents",
        ["xero_connection_id", "status", "updated_at"],
    )
    for table in TALLIES:
        op.execute(_backfill(table))
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    from abxero.store.tallies import backfill_orders, backfill_sellers  # parser in the app

    backfill_sellers(op.get_bind())
    backfill_orders(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS tally_sources_{name} ON source_transactions")
            op.execute(f"DROP FUNCTION IF EXISTS tally_sources_{name}()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS tally_sources_{name}")
    op.drop_index("ix_outbox_status_updated", table_name="outbox_documents")
    op.drop_index("ix_source_status_reason_date", table_name="source_transactions")
    op.drop_index("ix_source_status_updated", table_name="source_transactions")
    op.drop_index("ix_source_orders_transaction", table_name="source_orders")
    op.drop_index("ix_source_orders_order", table_name="source_orders")
    op.drop_table("source_orders")
    op.drop_index("ix_seller_tallies_key", table_name="seller_tallies")
    op.drop_table("seller_tallies")
    for table in TALLIES:
        op.drop_index(f"ix_{table}_key", table_name=table)
        op.drop_table(table)
