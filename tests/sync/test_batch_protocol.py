"""The stored batch is the whole request, and an element Xero answers OK without an id is
settled by lookup, never recorded as posted (real SQLite and PostgreSQL); then the batch
protocol as unit tests on the in-memory ledger: open → outcomes → reconcile, where a batch a
crash left open is reconciled against Xero, never sent again."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from abxero.domain import jsontext
from abxero.domain.lifecycles import BatchStatus
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


# -- open → outcomes → reconcile, on the in-memory ledger (milliseconds each) ----------------------


def _ready_keys(ledger: Ledger, endpoint: Endpoint) -> list[str]:
    with ledger.factory() as session:
        ready = batches.ready_documents(session, ledger.connection_id, (endpoint,), 500)
        return [document.doc_key for document, _ in ready]


def _batch_status(ledger: Ledger, batch_id: int) -> str:
    with ledger.factory() as session:
        return session.get_one(Batch, batch_id).status


def test_opening_a_batch_marks_its_documents_sending_under_one_key(memory_ledger: Ledger) -> None:
    for n in (1, 2):
        _document(memory_ledger, f"bill-{n}", Endpoint.INVOICES, {"InvoiceNumber": f"A-{n}"})
    [batch] = _open(memory_ledger, Endpoint.INVOICES)
    assert batch.document_count == 2
    assert batch.idempotency_key.startswith(f"abx-{memory_ledger.connection_id}-{batch.batch_id}-")
    assert jsontext.loads(batch.body)["Invoices"] == [
        {"InvoiceNumber": "A-1"},
        {"InvoiceNumber": "A-2"},
    ]
    assert _statuses(memory_ledger) == {"bill-1": ("sending", ""), "bill-2": ("sending", "")}
    assert _batch_status(memory_ledger, batch.batch_id) == BatchStatus.SENDING
    assert _open(memory_ledger, Endpoint.INVOICES) == []  # nothing sending is opened again


def test_the_answer_settles_each_element_and_closes_the_batch(memory_ledger: Ledger) -> None:
    for n in (1, 2):
        _document(memory_ledger, f"bill-{n}", Endpoint.INVOICES, {"InvoiceNumber": f"A-{n}"})
    [batch] = _open(memory_ledger, Endpoint.INVOICES)
    answer = [ElementOutcome(True, PAYMENT_ID), ElementOutcome(False, errors=("Account archived",))]
    with transaction(memory_ledger.factory) as session:
        counts = batches.record_outcomes(
            session, batch.batch_id, answer, NOW, lambda errors: "Restore the account."
        )
    assert (counts.posted, counts.failed) == (1, 1)
    assert counts.failures == [("bill-2", "Account archived. Restore the account.")]
    assert _statuses(memory_ledger) == {"bill-1": (POSTED, PAYMENT_ID), "bill-2": ("failed", "")}
    assert _batch_status(memory_ledger, batch.batch_id) == BatchStatus.DONE
    with memory_ledger.factory() as session:
        assert batches.interrupted_batches(session, memory_ledger.connection_id) == []
        source = session.scalars(
            select(SourceTransaction).where(SourceTransaction.transaction_id == "bill-1")
        ).one()
    assert source.status == POSTED


def test_an_answer_of_the_wrong_length_is_refused_and_changes_nothing(
    memory_ledger: Ledger,
) -> None:
    _document(memory_ledger, "bill-1", Endpoint.INVOICES, {"InvoiceNumber": "A-1"})
    [batch] = _open(memory_ledger, Endpoint.INVOICES)
    answer = [ElementOutcome(True, "x"), ElementOutcome(True, "y")]
    with (
        pytest.raises(ValueError, match="sent 1 documents, Xero answered 2"),
        transaction(memory_ledger.factory) as session,
    ):
        batches.record_outcomes(session, batch.batch_id, answer, NOW)
    assert _statuses(memory_ledger) == {"bill-1": ("sending", "")}


def test_a_batch_left_open_by_a_crash_is_reconciled_not_sent_again(memory_ledger: Ledger) -> None:
    """The process died after sending and before recording: the batch is still ``sending``.
    Past its key's lifetime it is looked up in Xero; what Xero holds is posted with Xero's id,
    what it does not is planned again for a new batch, and the old batch is never reopened."""
    for n in (1, 2):
        _document(memory_ledger, f"bill-{n}", Endpoint.INVOICES, {"InvoiceNumber": f"A-{n}"})
    [crashed] = _open(memory_ledger, Endpoint.INVOICES)
    with memory_ledger.factory() as session:
        [interrupted] = batches.interrupted_batches(session, memory_ledger.connection_id)
        assert batches.as_outgoing(interrupted) == crashed  # a resend would be the same request
        wanted = batches.lookups(session, crashed.batch_id)
    assert [payload["InvoiceNumber"] for _, payload in wanted] == ["A-1", "A-2"]
    with transaction(memory_ledger.factory) as session:
        counts = batches.reconcile(session, crashed.batch_id, [PAYMENT_ID, None], NOW)
    assert counts.posted == 1
    assert _statuses(memory_ledger) == {"bill-1": (POSTED, PAYMENT_ID), "bill-2": (PLANNED, "")}
    assert _batch_status(memory_ledger, crashed.batch_id) == BatchStatus.RECONCILED
    with memory_ledger.factory() as session:
        assert batches.interrupted_batches(session, memory_ledger.connection_id) == []
    assert _ready_keys(memory_ledger, Endpoint.INVOICES) == ["bill-2"]  # bill-1 never again
    [again] = _open(memory_ledger, Endpoint.INVOICES)
    assert again.batch_id != crashed.batch_id
    assert again.idempotency_key != crashed.idempotency_key
    assert jsontext.loads(again.body)["Invoices"] == [{"InvoiceNumber": "A-2"}]


def test_a_late_answer_to_a_reconciled_batch_leaves_its_documents_alone(
    memory_ledger: Ledger,
) -> None:
    """A document reconciled as missing and sent in a new batch belongs to that batch: the old
    batch's answer, replayed later, writes nothing over it."""
    _document(memory_ledger, "bill-1", Endpoint.INVOICES, {"InvoiceNumber": "A-1"})
    [old] = _open(memory_ledger, Endpoint.INVOICES)
    with transaction(memory_ledger.factory) as session:
        batches.reconcile(session, old.batch_id, [None], NOW)
    [new] = _open(memory_ledger, Endpoint.INVOICES)
    with transaction(memory_ledger.factory) as session:
        late = batches.record_outcomes(session, old.batch_id, [ElementOutcome(True, "old")], NOW)
    assert (late.posted, late.failed) == (0, 0)
    assert _statuses(memory_ledger) == {"bill-1": ("sending", "")}
    with transaction(memory_ledger.factory) as session:
        batches.record_outcomes(session, new.batch_id, [ElementOutcome(True, PAYMENT_ID)], NOW)
    assert _statuses(memory_ledger) == {"bill-1": (POSTED, PAYMENT_ID)}


def test_full_only_leaves_a_part_batch_to_fill_up(memory_ledger: Ledger) -> None:
    for n in range(batches.BATCH_SIZE + 3):
        _document(memory_ledger, f"bill-{n:03}", Endpoint.INVOICES, {"InvoiceNumber": f"A-{n}"})
    with transaction(memory_ledger.factory) as session:
        ready = batches.ready_documents(
            session, memory_ledger.connection_id, (Endpoint.INVOICES,), 500
        )
        outgoing = batches.open_batches(
            session, memory_ledger.connection_id, ready, NOW, full_only=True
        )
    assert [batch.document_count for batch in outgoing] == [batches.BATCH_SIZE]
    assert len(_ready_keys(memory_ledger, Endpoint.INVOICES)) == 3
    assert [batch.document_count for batch in _open(memory_ledger, Endpoint.INVOICES)] == [3]
