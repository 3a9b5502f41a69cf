"""The one migration history creates the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import inspect, select, text

from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import downgrade, upgrade
from abxero.store.models import (
    Base,
    EncryptedTokenSet,
    OutboxDocument,
    SourceTransaction,
    User,
    XeroConnection,
)


def test_upgrade_creates_every_table_of_the_models(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_to_base_removes_the_schema_and_upgrade_restores_it(database_url: str) -> None:
    upgrade(database_url)
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_money_and_timestamps_round_trip_exactly(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = session_factory(engine)
    seen = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with transaction(factory) as session:
        user = User(xero_user_id="u-1", email="a@example.com")
        session.add(user)
        session.flush()
        org = XeroConnection(tenant_id="t-1", owner_user_id=user.id)
        session.add(org)
        session.flush()
        session.add(
            SourceTransaction(
                xero_connection_id=org.id,
                transaction_id="tx-1",
                raw="{}",
                content_hash="h",
                amount=Decimal("1234567.89"),
                feed_date=seen,
            )
        )
    with factory() as session:
        row = session.scalars(select(SourceTransaction)).one()
    engine.dispose()
    assert row.amount == Decimal("1234567.89")
    assert isinstance(row.amount, Decimal)
    assert row.feed_date == seen
    assert row.feed_date is not None
    assert row.feed_date.tzinfo is not None


def test_data_files_are_private(tmp_path: Path) -> None:
    """The database, its WAL and the key file are 0600 in a 0700 data directory."""
    import stat

    from abxero.runtime import Runtime
    from abxero.settings import load_settings

    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir)
    upgrade(settings.resolved_database_url)
    runtime = Runtime(settings)
    with runtime.sessions() as session:
        session.execute(text("select 1"))
    runtime.close()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [path for path in data_dir.iterdir() if path.is_file()]
    assert any(path.name == "abxero.db" for path in files)
    assert any(path.name == "secret.key" for path in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_rows_stored_before_routing_get_their_legal_entity(database_url: str) -> None:
    """Migration 0011 fills ``legal_entity`` from each stored record, so old transactions are
    routed by their entity; an unreadable record or one without an entity stays empty."""
    upgrade(database_url, "0004")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, xero_user_id, email, name, created_at) "
                "VALUES (1, 'u', '', '', :now)"
            ),
            {"now": datetime(2026, 12, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO xero_connections (id, tenant_id, tenant_name, xero_connection_uid, "
                "short_code, owner_user_id, contact_id, status, setup_step, "
                "sync_interval_minutes, created_at) "
                "VALUES (1, 't', 'Org', '', '', 1, '', 'connected', 'done', 15, :now)"
            ),
            {"now": datetime(2026, 12, 1, tzinfo=UTC)},
        )
        for number, raw in enumerate(
            ['{"legalEntityName": "  Acme   Labs NY Corp. "}', "{}", "not json"], start=1
        ):
            connection.execute(
                text(
                    "INSERT INTO source_transactions (id, xero_connection_id, transaction_id, "
                    "raw, content_hash, instrument_key, currency, status, reason_code, reason, "
                    "remedy, order_ids, needs_review, planned_hash, first_seen_at, updated_at) "
                    "VALUES (:id, 1, :tid, :raw, 'h', '', '', 'new', '', '', '', '', :no, '', "
                    ":now, :now)"
                ),
                {
                    "id": number,
                    "tid": f"T{number}",
                    "raw": raw,
                    "no": False,
                    "now": datetime(2026, 12, 1, tzinfo=UTC),
                },
            )
    upgrade(database_url)
    with session_factory(engine)() as session:
        rows = session.execute(
            select(SourceTransaction.transaction_id, SourceTransaction.legal_entity)
        ).all()
        names = dict(rows)
    engine.dispose()
    assert names == {"T1": "Acme Labs NY Corp.", "T2": "", "T3": ""}


def test_rows_stored_before_0016_keep_their_issue_time_and_refused_pdfs_are_asked_again(
    database_url: str,
) -> None:
    """Migration 0016: a token set's ``issued_at`` starts as its last change, and a PDF Amazon
    refused before it gets its 30-day window from that refusal, due to be asked again."""
    upgrade(database_url, "0011")
    engine = make_engine(database_url)
    then = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO token_sets (id, provider, ciphertext, generation, updated_at) "
                "VALUES (1, 'xero', :blob, 1, :then)"
            ),
            {"blob": b"sealed", "then": then},
        )
        connection.execute(
            text(
                "INSERT INTO users (id, xero_user_id, email, name, created_at) "
                "VALUES (1, 'u', '', '', :then)"
            ),
            {"then": then},
        )
        connection.execute(
            text(
                "INSERT INTO xero_connections (id, tenant_id, tenant_name, xero_connection_uid, "
                "short_code, owner_user_id, contact_id, status, setup_step, "
                "sync_interval_minutes, created_at) "
                "VALUES (1, 't', 'Org', '', '', 1, '', 'connected', 'done', 15, :then)"
            ),
            {"then": then},
        )
        for number, attachment in enumerate(["unavailable", "attached"], start=1):
            connection.execute(
                text(
                    "INSERT INTO outbox_documents (id, xero_connection_id, transaction_id, role, "
                    "doc_key, endpoint, payload, links, content_hash, depends_on, amount, "
                    "currency, status, xero_id, error, attachment, attachment_error, summary, "
                    "created_at, updated_at) VALUES (:id, 1, :tid, 'bill', :key, 'Invoices', "
                    "'{}', '[]', 'h', '[]', 1, 'GBP', 'posted', 'x', '', :attachment, '', '', "
                    ":then, :then)"
                ),
                {
                    "id": number,
                    "tid": f"T{number}",
                    "key": f"K{number}",
                    "attachment": attachment,
                    "then": then,
                },
            )
    upgrade(database_url)
    with session_factory(engine)() as session:
        tokens = session.get_one(EncryptedTokenSet, 1)
        documents = {d.attachment: d for d in session.scalars(select(OutboxDocument))}
    engine.dispose()
    assert tokens.issued_at == then
    refused, attached = documents["unavailable"], documents["attached"]
    assert (refused.attachment_refused_at, refused.attachment_next_ask_at) == (then, then)
    assert (attached.attachment_refused_at, attached.attachment_next_ask_at) == (None, None)
