"""The batch protocol: stored before it is sent, resent byte for byte, reconciled after a crash.

1. ``open_batches`` turns ready outbox documents into batches of at most 50, each stored with
   its exact body and an Idempotency-Key, and marks the documents ``sending`` — all in one
   transaction, before anything goes to Xero.
2. The engine sends the stored body with the stored key and hands the per-element outcomes to
   ``record_outcomes``, which writes Xero ids and errors in one transaction.
3. A batch still ``sending`` when a sync starts was interrupted. Inside the key's lifetime it is
   simply resent (Xero answers with its first response); after it, the engine looks its
   documents up in Xero (one listing per batch where Xero can list them, see
   ``XeroBooks.find_many``) and ``reconcile`` records what exists and returns the rest to
   ``planned``.

The whole request is stored, not only the body: the query string (``summarizeErrors=false``
and, for documents with unit prices, ``unitdp=4``) is kept in ``batches.query``, so a resend
under the same Idempotency-Key is the same request even after the client's defaults change.
Batches stored before the column existed get the query that version sent
(``summarizeErrors=false``, migration 0002) and are resent exactly so.

An element Xero answers ``OK`` without an id is not known to exist (XeroAPI/Xero-NetStandard
#324): its document stays ``sending`` in its batch, and the batch stays open, so the recovery
above settles it by lookup like any interrupted element.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.lifecycles import BatchStatus, DocumentStatus
from abxero.domain.plan import Endpoint, Link, resolve_links
from abxero.store.models import Batch, OutboxDocument
from abxero.sync.ledger import mark_posted_sources
from abxero.xero.accounting import write_query

BATCH_SIZE = 50
LEGACY_QUERY = "summarizeErrors=false"
FIRST_PHASE = (Endpoint.INVOICES, Endpoint.CREDIT_NOTES, Endpoint.BANK_TRANSACTIONS)
SECOND_PHASE = (Endpoint.PAYMENTS, Endpoint.ALLOCATIONS)
ID_FIELDS = {
    Endpoint.INVOICES: "InvoiceID",
    Endpoint.CREDIT_NOTES: "CreditNoteID",
    Endpoint.BANK_TRANSACTIONS: "BankTransactionID",
    Endpoint.PAYMENTS: "PaymentID",
    Endpoint.ALLOCATIONS: "AllocationID",
}


@dataclass(frozen=True)
class ElementOutcome:
    """What Xero said about one element of a batch."""

    ok: bool
    xero_id: str = ""
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutgoingBatch:
    """A stored batch, as the sender needs it."""

    batch_id: int
    endpoint: Endpoint
    path: str
    body: str
    idempotency_key: str
    document_count: int
    query: str = LEGACY_QUERY


@dataclass
class RecordCounts:
    posted: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)


def posted_ids(session: Session, connection_id: int, keys: Iterable[str]) -> dict[str, str]:
    """Xero ids of the posted documents among ``keys``."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = session.execute(
        select(OutboxDocument.doc_key, OutboxDocument.xero_id).where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.doc_key.in_(wanted),
            OutboxDocument.status == DocumentStatus.POSTED,
        )
    )
    return {str(key): str(xero_id) for key, xero_id in rows}


def stored_links(document: OutboxDocument) -> list[Link]:
    """The links of a stored document (kept as ``[key, *path]``, see ``sync.ledger``)."""
    return [Link(key, tuple(path)) for key, *path in document.links]


def ready_documents(
    session: Session, connection_id: int, endpoints: Sequence[Endpoint], limit: int
) -> list[tuple[OutboxDocument, dict[str, Any]]]:
    """Planned documents of ``endpoints`` whose dependencies are all posted, with payloads."""
    candidates = list(
        session.scalars(
            select(OutboxDocument)
            .where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.status == DocumentStatus.PLANNED,
                OutboxDocument.endpoint.in_([endpoint.value for endpoint in endpoints]),
            )
            .order_by(OutboxDocument.id)
            .limit(limit)
        )
    )
    needed = {key for document in candidates for key in document.depends_on}
    known = posted_ids(session, connection_id, needed)
    return [
        (document, resolve_links(jsontext.loads(document.payload), stored_links(document), known))
        for document in candidates
        if all(key in known for key in document.depends_on)
    ]


def open_batches(
    session: Session,
    connection_id: int,
    ready: Sequence[tuple[OutboxDocument, dict[str, Any]]],
    now: datetime,
    *,
    full_only: bool = False,
) -> list[OutgoingBatch]:
    """Store batches for ``ready`` documents and mark them sending (the caller commits);
    ``full_only`` leaves a part batch for later, when more documents may have joined it."""
    outgoing = []
    for endpoint, path, group in _groups(ready):
        stop = len(group) - len(group) % BATCH_SIZE if full_only else len(group)
        for start in range(0, stop, BATCH_SIZE):
            chunk = group[start : start + BATCH_SIZE]
            outgoing.append(_store_batch(session, connection_id, endpoint, path, chunk, now))
    return outgoing


def _groups(
    ready: Sequence[tuple[OutboxDocument, dict[str, Any]]],
) -> list[tuple[Endpoint, str, list[tuple[OutboxDocument, dict[str, Any]]]]]:
    """Documents grouped by the URL they are sent to; allocations go one credit note at a time."""
    groups: dict[str, tuple[Endpoint, list[tuple[OutboxDocument, dict[str, Any]]]]] = {}
    for document, payload in ready:
        endpoint = Endpoint(document.endpoint)
        path = endpoint.value
        if endpoint is Endpoint.ALLOCATIONS:
            credit_note = payload.pop("CreditNote")["CreditNoteID"]
            path = f"CreditNotes/{credit_note}/Allocations"
        groups.setdefault(path, (endpoint, []))[1].append((document, payload))
    return [(endpoint, path, items) for path, (endpoint, items) in groups.items()]


def batch_request(
    endpoint: Endpoint, path: str, payloads: Sequence[Mapping[str, Any]]
) -> tuple[str, str]:
    """The body and query string a batch of ``payloads`` is stored with and sent (and resent)
    as: ``{"<endpoint>": [...]}`` with sorted keys, and ``write_query(path)``."""
    return jsontext.dumps({endpoint.value: list(payloads)}), write_query(path)


def _store_batch(
    session: Session,
    connection_id: int,
    endpoint: Endpoint,
    path: str,
    chunk: Sequence[tuple[OutboxDocument, dict[str, Any]]],
    now: datetime,
) -> OutgoingBatch:
    body, query = batch_request(endpoint, path, [payload for _, payload in chunk])
    batch = Batch(
        xero_connection_id=connection_id,
        endpoint=endpoint.value,
        path=path,
        idempotency_key=f"pending-{uuid.uuid4().hex}",
        query=query,
        body=body,
        status=BatchStatus.SENDING,
        doc_ids=[document.id for document, _ in chunk],
        sent_at=now,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    digest = hashlib.sha256(f"{query}\n{body}".encode()).hexdigest()[:24]
    batch.idempotency_key = f"abx-{connection_id}-{batch.id}-{digest}"
    for document, _ in chunk:
        document.status = DocumentStatus.SENDING
        document.batch_id = batch.id
    session.flush()
    return as_outgoing(batch)


def as_outgoing(batch: Batch) -> OutgoingBatch:
    """What the sender needs of a stored batch."""
    return OutgoingBatch(
        batch_id=batch.id,
        endpoint=Endpoint(batch.endpoint),
        path=batch.path,
        body=batch.body,
        idempotency_key=batch.idempotency_key,
        document_count=len(batch.doc_ids),
        query=batch.query,
    )


def interrupted_batches(session: Session, connection_id: int) -> list[Batch]:
    """Batches a crash (or a lost response) left ``sending``, oldest first."""
    return list(
        session.scalars(
            select(Batch)
            .where(Batch.xero_connection_id == connection_id, Batch.status == BatchStatus.SENDING)
            .order_by(Batch.id)
        )
    )


def _batch_documents(session: Session, batch: Batch) -> list[OutboxDocument]:
    by_id = {
        document.id: document
        for document in session.scalars(
            select(OutboxDocument).where(OutboxDocument.id.in_(batch.doc_ids))
        )
    }
    return [by_id[identifier] for identifier in batch.doc_ids]


def element_keys(session: Session, batch_id: int) -> list[str]:
    """The document key of each element of a stored batch, in the order of its body."""
    return [
        document.doc_key for document in _batch_documents(session, session.get_one(Batch, batch_id))
    ]


def _still_sending(document: OutboxDocument, batch: Batch) -> bool:
    """Whether the document still waits on this batch (not settled, not moved to another)."""
    return document.status == DocumentStatus.SENDING and document.batch_id == batch.id


def record_outcomes(
    session: Session,
    batch_id: int,
    outcomes: Sequence[ElementOutcome],
    now: datetime,
    remedy_for: Callable[[Sequence[str]], str] = lambda errors: "",
) -> RecordCounts:
    """Write what Xero said about each element of a batch (the caller commits).

    Only documents still waiting on this batch are written. One answered OK without a Xero
    id stays ``sending`` and keeps the batch open for recovery by lookup.
    """
    batch = session.get_one(Batch, batch_id)
    documents = _batch_documents(session, batch)
    if len(outcomes) != len(documents):
        raise ValueError(
            f"batch {batch_id} sent {len(documents)} documents, Xero answered {len(outcomes)}"
        )
    counts = RecordCounts()
    for document, outcome in zip(documents, outcomes, strict=True):
        if _still_sending(document, batch):
            _record_one(document, outcome, counts, remedy_for)
    batch.attempts += 1
    if not counts.unconfirmed:
        batch.status, batch.finished_at = BatchStatus.DONE, now
    mark_posted_sources(
        session, batch.xero_connection_id, [document.transaction_id for document in documents]
    )
    session.flush()
    return counts


def _record_one(
    document: OutboxDocument,
    outcome: ElementOutcome,
    counts: RecordCounts,
    remedy_for: Callable[[Sequence[str]], str],
) -> None:
    if outcome.ok and not outcome.xero_id:
        counts.unconfirmed.append(document.doc_key)
    elif outcome.ok:
        document.status, document.xero_id, document.error = (
            DocumentStatus.POSTED,
            outcome.xero_id,
            "",
        )
        counts.posted += 1
    else:
        message = "; ".join(outcome.errors) or "Xero rejected the document"
        remedy = remedy_for(outcome.errors)
        document.status = DocumentStatus.FAILED
        document.error = f"{message}. {remedy}".strip() if remedy else message
        counts.failed += 1
        counts.failures.append((document.doc_key, document.error))


def _unsettled(session: Session, batch: Batch) -> list[tuple[int, OutboxDocument]]:
    """The documents of ``batch`` still waiting on it, with their place in the body."""
    documents = _batch_documents(session, batch)
    return [(i, d) for i, d in enumerate(documents) if _still_sending(d, batch)]


def lookups(session: Session, batch_id: int) -> list[tuple[Endpoint, dict[str, Any]]]:
    """What to look up in Xero for each unsettled element of an interrupted batch, in order."""
    batch = session.get_one(Batch, batch_id)
    endpoint = Endpoint(batch.endpoint)
    payloads: list[dict[str, Any]] = jsontext.loads(batch.body)[batch.endpoint]
    if endpoint is Endpoint.ALLOCATIONS:
        payloads = [{**payload, "CreditNotePath": batch.path} for payload in payloads]
    return [(endpoint, payloads[index]) for index, _ in _unsettled(session, batch)]


def reconcile(
    session: Session, batch_id: int, found: Sequence[str | None], now: datetime
) -> RecordCounts:
    """Settle an interrupted batch past its key's lifetime with what Xero was found to hold.

    ``found`` has, per unsettled element (the order of ``lookups``), the Xero id of the
    matching document or None; the lookups are made by the caller outside any database
    transaction.
    """
    batch = session.get_one(Batch, batch_id)
    counts = RecordCounts()
    documents = [document for _, document in _unsettled(session, batch)]
    for document, xero_id in zip(documents, found, strict=True):
        if xero_id:
            document.status, document.xero_id = DocumentStatus.POSTED, xero_id
            counts.posted += 1
        else:
            document.status, document.batch_id = DocumentStatus.PLANNED, None
    batch.status, batch.finished_at = BatchStatus.RECONCILED, now
    mark_posted_sources(
        session, batch.xero_connection_id, [document.transaction_id for document in documents]
    )
    session.flush()
    return counts
