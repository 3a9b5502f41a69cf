"""The stored batch is the whole request, and an element Xero answers OK without an id is
settled by lookup, never recorded as posted (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text

from abxero.domain import jsontext
from abxero.domain.plan import Endpoint
from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import upgrade
from abxero.store.models import (
    Batch,
    OutboxDocument,
    SourceTransaction,
    User,
    XeroConnection,
)
from abxero.sync import batches
from abxero.sync.batches import ElementOutcome
from abxero.sync.ledger import PLANNED, POSTED
from tests.sync.conftest import Ledger

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
PAYMENT_ID = "7b4c1f0e-2d51-4a8e-9c1e-0f3b6a1d2c44"


def _document(ledger: Ledger, key: str, endpoint: Endpoint, payload: dict[str, object]) -> None:
    with transaction(ledger.factory) as session:
        session.add(
            SourceTransaction(
                xero_connection_id=ledger.connection_id,
                transaction_id=key,
                raw="{}",
                content_hash=key,
                status=PLANNED,
            )
        )
        session.add(
            OutboxDocument(
                xero_connection_id=ledger.connection_id,
                transaction_id=key,
                role="payment" if endpoint is Endpoint.PAYMENTS else "bill",
                doc_key=key,
                endpoint=endpoint.value,
                payload=jsontext.dumps(payload),
                content_hash=key,
                amount=Decimal("10.00"),
                currency="GBP",
            )
        )


def _open(ledger: Ledger, endpoint: Endpoint) -> list[batches.OutgoingBatch]:
    with transaction(ledger.factory) as session:
        ready = batches.ready_documents(session, ledger.connection_id, (endpoint,), 50)
        return batches.open_batches(session, ledger.connection_id, ready, NOW)


def _statuses(ledger: Ledger) -> dict[str, tuple[str, str]]:
    with ledger.factory() as session:
        rows = session.execute(
            select(OutboxDocument.doc_key, OutboxDocument.status, OutboxDocument.xero_id)
        )
        return {key: (status, xero_id) for key, status, xero_id in rows}


def test_a_new_batch_stores_the_query_it_is_sent_with(ledger: Ledger) -> None:
    _document(ledger, "bill-1", Endpoint.INVOICES, {"InvoiceNumber": "A-1"})
    _document(ledger, "pay-1", Endpoint.PAYMENTS, {"Amount": Decimal("10.00")})
    [bills] = _open(ledger, Endpoint.INVOICES)
    [payments] = _open(ledger, Endpoint.PAYMENTS)
    assert bills.query == "summarizeErrors=false&unitdp=4"
    assert payments.query == "summarizeErrors=false"
    with ledger.factory() as session:
        stored = session.get_one(Batch, bills.batch_id)
        assert batches.as_outgoing(stored) == bills


def test_a_batch_stored_before_the_query_column_keeps_the_query_it_was_sent_with(
    database_url: str,
) -> None:
    """Migration 0002: an in-flight batch of an older version is resent without unitdp, the
    request Xero holds under its Idempotency-Key, never a different one under the same key."""
    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        user = User(xero_user_id="u-1")
        session.add(user)
        session.flush()
        session.add(XeroConnection(id=1, tenant_id="t-1", owner_user_id=user.id))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO batches (id, xero_connection_id, endpoint, idempotency_key, body, "
                "status, doc_ids, path, attempts, created_at, sent_at) VALUES (1, 1, 'Invoices', "
                "'abx-1-1-old', '{\"Invoices\":[]}', 'sending', '[]', 'Invoices', 0, :now, :now)"
            ),
            {"now": NOW},
        )
    upgrade(database_url)
    with session_factory(engine)() as session:
        [interrupted] = batches.interrupted_batches(session, 1)
        outgoing = batches.as_outgoing(interrupted)
    engine.dispose()
    assert outgoing.query == "summarizeErrors=false"
    assert outgoing.idempotency_key == "abx-1-1-old"


def test_ok_without_an_id_stays_sending_and_is_settled_by_lookup(ledger: Ledger) -> None:
    """Xero answered a payment OK with no PaymentID and never created it
    (XeroAPI/Xero-NetStandard#324): the document is not posted; the batch stays open; the
    recovery looks up only that element and, not finding it, plans it again."""
    _document(ledger, "pay-1", Endpoint.PAYMENTS, {"Amount": Decimal("10.00"), "N": 1})
    _document(ledger, "pay-2", Endpoint.PAYMENTS, {"Amount": Decimal("10.00"), "N": 2})
    [batch] = _open(ledger, Endpoint.PAYMENTS)
    with transaction(ledger.factory) as session:
        counts = batches.record_outcomes(
            session, batch.batch_id, [ElementOutcome(True), ElementOutcome(True, PAYMENT_ID)], NOW
        )
    assert (counts.posted, counts.unconfirmed) == (1, ["pay-1"])
    assert _statuses(ledger) == {"pay-1": ("sending", ""), "pay-2": (POSTED, PAYMENT_ID)}
    with ledger.factory() as session:
        assert [b.id for b in batches.interrupted_batches(session, ledger.connection_id)] == [
            batch.batch_id
        ]
        wanted = batches.lookups(session, batch.batch_id)
    assert [payload["N"] for _, payload in wanted] == [1]
    with transaction(ledger.factory) as session:
        batches.reconcile(session, batch.batch_id, [None], NOW)
    assert _statuses(ledger) == {"pay-1": (PLANNED, ""), "pay-2": (POSTED, PAYMENT_ID)}


def test_a_resent_answer_does_not_touch_documents_already_settled(ledger: Ledger) -> None:
    """Resending an open batch replays Xero's first answer; settled documents keep theirs."""
    _document(ledger, "pay-1", Endpoint.PAYMENTS, {"Amount": Decimal("10.00"), "N": 1})
    _document(ledger, "pay-2", Endpoint.PAYMENTS, {"Amount": Decimal("10.00"), "N": 2})
    [batch] = _open(ledger, Endpoint.PAYMENTS)
    answer = [ElementOutcome(True), ElementOutcome(False, errors=("Payment amount too big",))]
    with transaction(ledger.factory) as session:
        batches.record_outcomes(session, batch.batch_id, answer, NOW)
    with transaction(ledger.factory) as session:
        again = batches.record_outcomes(session, batch.batch_id, answer, NOW)
    assert (again.failed, again.unconfirmed) == (0, ["pay-1"])
    assert _statuses(ledger)["pay-2"][0] == "failed"
