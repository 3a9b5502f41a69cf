"""The source table and the outbox: what was fetched, what was planned, what is posted.

Every function here works inside a caller's session and transaction; none commits. That is
what lets the engine move the feed bookmark in the same transaction as the rows of a window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Result, select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.lifecycles import DocumentStatus, SourceStatus
from abxero.domain.plan import (
    UNAPPLIED_CODE,
    UNAPPLIED_REMEDY,
    Held,
    Plan,
    Planned,
    PlannedDocument,
    Skipped,
)
from abxero.domain.quarantine import SET_ASIDE_STATUSES
from abxero.domain.transactions import Quarantined, Transaction
from abxero.store import tallies as _tallies  # noqa: F401  (keeps seller tallies on flush)
from abxero.store.models import OutboxDocument, SourceTransaction
from abxero.sync.events import record_event

# The source lifecycle under its old names, for code that still imports them from here; the
# names live in domain/lifecycles.py (PLANNED, POSTED and FAILED also name document states).
NEW, PLANNED, HELD, POSTED = (
    SourceStatus.NEW,
    SourceStatus.PLANNED,
    SourceStatus.HELD,
    SourceStatus.POSTED,
)
QUARANTINED, SKIPPED, FAILED = SourceStatus.QUARANTINED, SourceStatus.SKIPPED, SourceStatus.FAILED
REPLANNABLE = (SourceStatus.NEW, SourceStatus.HELD)

Fetched = tuple[Mapping[str, Any], Transaction | Quarantined]


def content_hash(raw: Any) -> str:
    """A hash of the record's content that ignores key order and spacing."""
    return hashlib.sha256(jsontext.dumps(raw).encode()).hexdigest()


@dataclass
class StoreCounts:
    """What storing one page of fetched records did."""

    new: int = 0
    unchanged: int = 0
    updated: int = 0
    flagged: int = 0


def source_id(parsed: Transaction | Quarantined, digest: str) -> str:
    """The transaction id; a record without one is kept under its content hash."""
    known = parsed.transaction_id
    return known if known else f"no-id:{digest[:32]}"


def store_fetched(session: Session, connection_id: int, page: Sequence[Fetched]) -> StoreCounts:
    """Insert new records, absorb repeats, and flag a changed record that was already posted."""
    counts = StoreCounts()
    keyed = {}
    for raw, parsed in page:
        digest = content_hash(raw)
        keyed[source_id(parsed, digest)] = (raw, parsed, digest)
    existing = {
        row.transaction_id: row
        for row in session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.transaction_id.in_(list(keyed)),
            )
        )
    }
    for identifier, (raw, parsed, digest) in keyed.items():
        row = existing.get(identifier)
        if row is None:
            session.add(_new_source(connection_id, identifier, raw, parsed, digest))
            counts.new += 1
        elif row.content_hash == digest and not _now_readable(row, parsed):
            counts.unchanged += 1
        elif row.status in SET_ASIDE_STATUSES or _has_sent_documents(
            session, connection_id, identifier
        ):
            # entered by hand or dismissed by a person: a corrected record from Amazon is
            # flagged, never posted on top of what they did
            _flag_for_review(session, row, digest)
            counts.flagged += 1
        else:
            _replace_source(session, row, raw, parsed, digest)
            counts.updated += 1
    session.flush()
    return counts


def _now_readable(row: SourceTransaction, parsed: Transaction | Quarantined) -> bool:
    """A record quarantined by an older, stricter parser that the current one accepts."""
    return row.status == SourceStatus.QUARANTINED and isinstance(parsed, Transaction)


def _new_source(
    connection_id: int,
    identifier: str,
    raw: Mapping[str, Any],
    parsed: Transaction | Quarantined,
    digest: str,
) -> SourceTransaction:
    row = SourceTransaction(xero_connection_id=connection_id, transaction_id=identifier)
    _fill_source(row, raw, parsed, digest)
    return row


def _fill_source(
    row: SourceTransaction,
    raw: Mapping[str, Any],
    parsed: Transaction | Quarantined,
    digest: str,
) -> None:
    row.raw = jsontext.dumps(raw)
    row.content_hash = digest
    row.reason_code = ""
    row.reason = ""
    row.remedy = ""
    if isinstance(parsed, Quarantined):
        row.status = SourceStatus.QUARANTINED
        row.reason_code = "bad_record"
        row.reason = parsed.reason
        return
    row.status = SourceStatus.NEW
    row.feed_date = parsed.feed_date
    row.transaction_date = parsed.transaction_date
    row.instrument_key = parsed.instrument.key
    row.currency = parsed.currency
    row.amount = parsed.amount
    row.order_ids = " ".join(parsed.order_ids)


def _replace_source(
    session: Session,
    row: SourceTransaction,
    raw: Mapping[str, Any],
    parsed: Transaction | Quarantined,
    digest: str,
) -> None:
    """A record changed before anything of it reached Xero: forget the old plan."""
    for document in _documents_of(session, row.xero_connection_id, row.transaction_id):
        session.delete(document)
    _fill_source(row, raw, parsed, digest)


def _flag_for_review(session: Session, row: SourceTransaction, digest: str) -> None:
    if row.needs_review and row.planned_hash == digest:
        return
    row.needs_review = True
    row.planned_hash = digest
    record_event(
        session,
        row.xero_connection_id,
        "warning",
        "changed_after_posting",
        f"Amazon changed transaction {row.transaction_id} after it was posted to Xero; "
        "it was not posted again.",
        "Compare the Amazon order with the Xero bill and correct the bill by hand.",
        transaction_id=row.transaction_id,
    )


def _documents_of(
    session: Session, connection_id: int, transaction_id: str
) -> list[OutboxDocument]:
    return list(
        session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.transaction_id == transaction_id,
            )
        )
    )


def documents_of(
    session: Session, connection_id: int, source: SourceTransaction
) -> list[OutboxDocument]:
    """The outbox documents of one stored transaction."""
    return _documents_of(session, connection_id, source.transaction_id)


def add_documents(
    session: Session, source: SourceTransaction, documents: Iterable[PlannedDocument]
) -> None:
    """Add the documents of ``source`` not in the outbox yet (by key)."""
    _add_documents(session, source, documents)


def _has_sent_documents(session: Session, connection_id: int, transaction_id: str) -> bool:
    return any(
        document.status != DocumentStatus.PLANNED
        for document in _documents_of(session, connection_id, transaction_id)
    )


def has_sent_documents(session: Session, connection_id: int, transaction_id: str) -> bool:
    """Whether anything of the transaction was sent to (or posted in) the organisation's Xero."""
    return _has_sent_documents(session, connection_id, transaction_id)


def refill_source(
    row: SourceTransaction, raw: Mapping[str, Any], parsed: Transaction | Quarantined
) -> None:
    """Set a stored row from its record again, as freshly fetched (status ``new``)."""
    _fill_source(row, raw, parsed, content_hash(raw))


def record_plan(session: Session, source: SourceTransaction, plan: Plan) -> None:
    """Write the outcome of planning: outbox rows, or the reason nothing is posted."""
    source.reason_code, source.reason, source.remedy = "", "", ""
    if isinstance(plan, Planned):
        _add_documents(session, source, plan.documents)
        source.status = SourceStatus.PLANNED
        source.planned_hash = source.content_hash
        if plan.unapplied:
            source.reason_code = UNAPPLIED_CODE
            source.reason = (
                f"{plan.unapplied.amount} {source.currency} of credit is not allocated to a "
                f"bill: {plan.unapplied.reason}"
            )
            source.remedy = UNAPPLIED_REMEDY
    elif isinstance(plan, Held):
        source.status = SourceStatus.HELD
        source.reason_code, source.reason, source.remedy = (
            plan.code.value,
            plan.message,
            plan.remedy,
        )
    elif isinstance(plan, Skipped):
        source.status = SourceStatus.SKIPPED
        source.reason_code, source.reason = "skipped", plan.reason
    else:
        source.status = SourceStatus.QUARANTINED
        source.reason_code, source.reason = "bad_record", plan.reason


def _add_documents(
    session: Session, source: SourceTransaction, documents: Iterable[PlannedDocument]
) -> None:
    known = {
        document.doc_key
        for document in _documents_of(session, source.xero_connection_id, source.transaction_id)
    }
    for document in documents:
        if document.key in known:
            continue
        payload = jsontext.dumps(document.payload)
        session.add(
            OutboxDocument(
                xero_connection_id=source.xero_connection_id,
                transaction_id=source.transaction_id,
                role=document.role.value,
                doc_key=document.key,
                endpoint=document.endpoint.value,
                payload=payload,
                content_hash=hashlib.sha256(payload.encode()).hexdigest(),
                depends_on=list(document.depends_on),
                links=[[link.key, *link.path] for link in document.links],
                amount=document.amount,
                currency=document.currency,
                status=DocumentStatus.PLANNED,
            )
        )
    session.flush()


def mark_posted_sources(
    session: Session, connection_id: int, transaction_ids: Iterable[str]
) -> None:
    """A source is posted once every one of its documents is."""
    for transaction_id in set(transaction_ids):
        documents = _documents_of(session, connection_id, transaction_id)
        if documents and all(document.status == DocumentStatus.POSTED for document in documents):
            source = session.scalars(
                select(SourceTransaction).where(
                    SourceTransaction.xero_connection_id == connection_id,
                    SourceTransaction.transaction_id == transaction_id,
                )
            ).one()
            source.status = SourceStatus.POSTED


def find_source(
    session: Session, connection_id: int, transaction_id: str
) -> SourceTransaction | None:
    """The stored Amazon transaction ``transaction_id`` of an organisation, if any."""
    return session.scalars(
        select(SourceTransaction).where(
            SourceTransaction.xero_connection_id == connection_id,
            SourceTransaction.transaction_id == transaction_id,
        )
    ).first()


def posted_with_sources(
    session: Session, connection_id: int, roles: Iterable[str], *wanted: ColumnElement[bool]
) -> Result[OutboxDocument, SourceTransaction]:
    """Posted documents of ``roles`` meeting ``wanted``, each with its source, oldest first (the
    attachment lane and the purchase summaries walk them)."""
    return session.execute(
        select(OutboxDocument, SourceTransaction)
        .join(
            SourceTransaction,
            (SourceTransaction.xero_connection_id == OutboxDocument.xero_connection_id)
            & (SourceTransaction.transaction_id == OutboxDocument.transaction_id),
        )
        .where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.status == DocumentStatus.POSTED,
            OutboxDocument.role.in_(list(roles)),
            *wanted,
        )
        .order_by(OutboxDocument.id)
    )
