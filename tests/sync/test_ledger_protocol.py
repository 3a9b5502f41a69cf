"""The ledger's half of exactly-once, as unit tests: storing fetched records (new, unchanged,
changed, flagged) and planned documents held until what they depend on is posted.

In-memory SQLite from the models (``memory_ledger``): no HTTP, no migrations, milliseconds.
The records are the golden UK refund (tests/golden/card_refund.amazon.json) and copies of it.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from abxero.domain.plan import Endpoint, Held, HoldCode, Link, Planned, PlannedDocument, Role
from abxero.domain.transactions import parse_transaction
from abxero.store.db import transaction
from abxero.store.models import Event, OutboxDocument, SourceTransaction
from abxero.sync import batches, ledger
from abxero.sync.batches import ElementOutcome
from tests.sync.conftest import Ledger

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parents[1] / "golden" / "card_refund.amazon.json"
BILL_ID = "3f2b8a64-0c1d-4e5f-8a9b-1c2d3e4f5a6b"


def _record(transaction_id: str = "uk-refund-1", amount: str = "-34.77") -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(json.loads(GOLDEN.read_text())["transactions"][0])
    raw["transactionId"] = transaction_id
    raw["amount"]["amount"] = amount
    return raw


def _store(memory_ledger: Ledger, *records: dict[str, Any]) -> ledger.StoreCounts:
    page = [(raw, parse_transaction(raw)) for raw in records]
    with transaction(memory_ledger.factory) as session:
        return ledger.store_fetched(session, memory_ledger.connection_id, page)


def _source(memory_ledger: Ledger, transaction_id: str) -> SourceTransaction:
    with memory_ledger.factory() as session:
        found = ledger.find_source(session, memory_ledger.connection_id, transaction_id)
    assert found is not None
    return found


def _counts(counts: ledger.StoreCounts) -> tuple[int, int, int, int]:
    return counts.new, counts.unchanged, counts.updated, counts.flagged


def _document(key: str, role: Role, endpoint: Endpoint, **extra: Any) -> PlannedDocument:
    return PlannedDocument(
        key=key,
        role=role,
        endpoint=endpoint,
        payload={"Reference": key},
        amount=Decimal("34.77"),
        currency="GBP",
        **extra,
    )


BILL = _document("uk-refund-1:bill", Role.BILL, Endpoint.INVOICES)
PAYMENT = _document(
    "uk-refund-1:payment",
    Role.PAYMENT,
    Endpoint.PAYMENTS,
    depends_on=(BILL.key,),
    links=(Link(BILL.key, ("Invoice", "InvoiceID")),),
)


def _plan(memory_ledger: Ledger, transaction_id: str, *documents: PlannedDocument) -> None:
    with transaction(memory_ledger.factory) as session:
        source = ledger.find_source(session, memory_ledger.connection_id, transaction_id)
        assert source is not None
        ledger.record_plan(session, source, Planned(transaction_id, documents))


def _ready(memory_ledger: Ledger, endpoint: Endpoint) -> list[tuple[str, dict[str, Any]]]:
    with memory_ledger.factory() as session:
        ready = batches.ready_documents(session, memory_ledger.connection_id, (endpoint,), 50)
        return [(document.doc_key, payload) for document, payload in ready]


def _post_bill(memory_ledger: Ledger) -> None:
    with transaction(memory_ledger.factory) as session:
        ready = batches.ready_documents(
            session, memory_ledger.connection_id, (Endpoint.INVOICES,), 50
        )
        [batch] = batches.open_batches(session, memory_ledger.connection_id, ready, NOW)
    with transaction(memory_ledger.factory) as session:
        batches.record_outcomes(session, batch.batch_id, [ElementOutcome(True, BILL_ID)], NOW)


def _review_events(memory_ledger: Ledger) -> int:
    with memory_ledger.factory() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.code == "changed_after_posting")
            )
            or 0
        )


# -- storing fetched records -----------------------------------------------------------------


def test_new_records_are_stored_as_new(memory_ledger: Ledger) -> None:
    counts = _store(memory_ledger, _record("t-1"), _record("t-2"))
    assert _counts(counts) == (2, 0, 0, 0)
    source = _source(memory_ledger, "t-1")
    assert source.status == ledger.NEW
    assert source.amount == Decimal("-34.77")
    assert source.content_hash == ledger.content_hash(_record("t-1"))


def test_the_same_record_again_is_unchanged_and_stored_once(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("t-1"))
    reordered = dict(reversed(list(_record("t-1").items())))  # key order is not content
    counts = _store(memory_ledger, reordered)
    assert _counts(counts) == (0, 1, 0, 0)
    with memory_ledger.factory() as session:
        assert session.scalar(select(func.count()).select_from(SourceTransaction)) == 1


def test_a_record_repeated_within_one_page_is_stored_once(memory_ledger: Ledger) -> None:
    counts = _store(memory_ledger, _record("t-1"), _record("t-1"))
    assert _counts(counts) == (1, 0, 0, 0)


def test_a_record_without_an_id_is_kept_under_its_content_hash(memory_ledger: Ledger) -> None:
    raw = _record()
    del raw["transactionId"]
    assert _counts(_store(memory_ledger, raw)) == (1, 0, 0, 0)
    assert _source(memory_ledger, f"no-id:{ledger.content_hash(raw)[:32]}").raw
    assert _counts(_store(memory_ledger, raw)) == (0, 1, 0, 0)


def test_a_record_changed_before_posting_replaces_its_plan(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("uk-refund-1"))
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    counts = _store(memory_ledger, _record("uk-refund-1", amount="-30.00"))
    assert _counts(counts) == (0, 0, 1, 0)
    source = _source(memory_ledger, "uk-refund-1")
    assert (source.status, source.amount) == (ledger.NEW, Decimal("-30.00"))
    with memory_ledger.factory() as session:
        assert session.scalars(select(OutboxDocument)).all() == []  # planned anew, once
    assert _review_events(memory_ledger) == 0


def test_a_record_changed_after_posting_is_flagged_never_replaced(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("uk-refund-1"))
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    _post_bill(memory_ledger)
    changed = _record("uk-refund-1", amount="-30.00")
    assert _counts(_store(memory_ledger, changed)) == (0, 0, 0, 1)
    source = _source(memory_ledger, "uk-refund-1")
    assert source.needs_review
    assert source.amount == Decimal("-34.77")  # what was posted stays what is stored
    assert _review_events(memory_ledger) == 1
    with memory_ledger.factory() as session:
        keys = set(session.scalars(select(OutboxDocument.doc_key)))
    assert keys == {BILL.key, PAYMENT.key}
    assert _counts(_store(memory_ledger, changed)) == (0, 0, 0, 1)
    assert _review_events(memory_ledger) == 1  # the same change is told once


def test_a_held_record_records_its_reason_and_no_documents(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("t-1"))
    hold = Held("t-1", HoldCode.CURRENCY_NOT_ENABLED, "GBP is not enabled", "Enable GBP")
    with transaction(memory_ledger.factory) as session:
        source = ledger.find_source(session, memory_ledger.connection_id, "t-1")
        assert source is not None
        ledger.record_plan(session, source, hold)
    source = _source(memory_ledger, "t-1")
    assert (source.status, source.reason_code, source.remedy) == (
        ledger.HELD,
        HoldCode.CURRENCY_NOT_ENABLED.value,
        "Enable GBP",
    )
    assert ledger.HELD in ledger.REPLANNABLE
    assert _ready(memory_ledger, Endpoint.INVOICES) == []


# -- documents wait for what they depend on -------------------------------------------------------


def test_planning_twice_adds_each_document_once(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("uk-refund-1"))
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    with memory_ledger.factory() as session:
        keys = sorted(session.scalars(select(OutboxDocument.doc_key)))
    assert keys == sorted([BILL.key, PAYMENT.key])
    assert _source(memory_ledger, "uk-refund-1").status == ledger.PLANNED


def test_a_payment_is_held_back_until_its_bill_is_posted(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("uk-refund-1"))
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    assert [key for key, _ in _ready(memory_ledger, Endpoint.INVOICES)] == [BILL.key]
    assert _ready(memory_ledger, Endpoint.PAYMENTS) == []
    _post_bill(memory_ledger)
    [(key, payload)] = _ready(memory_ledger, Endpoint.PAYMENTS)
    assert key == PAYMENT.key
    assert payload["Invoice"] == {"InvoiceID": BILL_ID}  # the link is written in from the bill
    assert _source(memory_ledger, "uk-refund-1").status == ledger.PLANNED  # payment still due


def test_a_bill_in_flight_does_not_release_its_payment(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("uk-refund-1"))
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    with transaction(memory_ledger.factory) as session:
        ready = batches.ready_documents(
            session, memory_ledger.connection_id, (Endpoint.INVOICES,), 50
        )
        batches.open_batches(session, memory_ledger.connection_id, ready, NOW)
    assert _ready(memory_ledger, Endpoint.PAYMENTS) == []  # sending is not posted
    assert _ready(memory_ledger, Endpoint.INVOICES) == []  # and the bill is not offered twice


def test_a_source_is_posted_once_every_document_is(memory_ledger: Ledger) -> None:
    _store(memory_ledger, _record("uk-refund-1"))
    _plan(memory_ledger, "uk-refund-1", BILL, PAYMENT)
    _post_bill(memory_ledger)
    with transaction(memory_ledger.factory) as session:
        ready = batches.ready_documents(
            session, memory_ledger.connection_id, (Endpoint.PAYMENTS,), 50
        )
        [batch] = batches.open_batches(session, memory_ledger.connection_id, ready, NOW)
    with transaction(memory_ledger.factory) as session:
        outcome = ElementOutcome(True, "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a")
        batches.record_outcomes(session, batch.batch_id, [outcome], NOW)
    assert _source(memory_ledger, "uk-refund-1").status == ledger.POSTED
