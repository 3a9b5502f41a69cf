"""Everything abxero posted or holds for a period, as CSV or JSON (columns: docs/export.md).

One row per document of a transaction (bill, payment, credit note, refund, allocation, spend
or receive money); a transaction with no document (held, quarantined, skipped) has one row with
the document columns empty. Rows are ordered by transaction date, transaction id and role, and
carry no time of the export itself, so exporting an unchanged ledger twice gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.lifecycles import SourceStatus
from abxero.services.links import deep_link
from abxero.services.reconcile import (
    Period,
    amazon_transaction,
    documents_of,
    period_sources,
    source_moment,
)
from abxero.store.models import MappingVersion, OutboxDocument, SourceTransaction, XeroConnection

COLUMNS = (
    "transaction_date",
    "transaction_id",
    "order_ids",
    "instrument",
    "currency",
    "amazon_amount",
    "transaction_status",
    "reason_code",
    "reason",
    "remedy",
    "needs_review",
    "role",
    "xero_endpoint",
    "xero_number",
    "xero_id",
    "xero_link",
    "document_amount",
    "document_status",
    "document_error",
    "mapping_version",
)
ROLE_ORDER = ("bill", "credit_note", "spend", "receive", "payment", "refund", "allocation")
NUMBER_FIELDS = ("InvoiceNumber", "CreditNoteNumber", "Reference")


@dataclass(frozen=True)
class Export:
    organisation: str
    tenant_id: str
    since: str
    until: str
    rows: list[dict[str, str]]


def build_export(session: Session, connection_id: int, period: Period) -> Export:
    connection = session.get_one(XeroConnection, connection_id)
    sources = sorted(
        period_sources(session, connection_id, period),
        key=lambda s: (_day(s), s.transaction_id),
    )
    documents = _documents_by_transaction(session, connection_id, sources)
    versions = _MappingVersions.of(session, connection_id)
    rows: list[dict[str, str]] = []
    for source in sources:
        base = _transaction_columns(source)
        ours = sorted(documents.get(source.transaction_id, []), key=_role_rank)
        if not ours:
            rows.append(base | _no_document(source, versions))
        for document in ours:
            rows.append(base | _document_columns(document, connection.short_code, versions))
    return Export(
        connection.tenant_name,
        connection.tenant_id,
        period.since.isoformat(),
        period.until.isoformat(),
        rows,
    )


def _day(source: SourceTransaction) -> str:
    moment = source_moment(source)
    return moment.date().isoformat() if moment else ""


def _role_rank(document: OutboxDocument) -> tuple[int, str]:
    rank = ROLE_ORDER.index(document.role) if document.role in ROLE_ORDER else len(ROLE_ORDER)
    return rank, document.doc_key


def _documents_by_transaction(
    session: Session, connection_id: int, sources: list[SourceTransaction]
) -> dict[str, list[OutboxDocument]]:
    grouped: dict[str, list[OutboxDocument]] = defaultdict(list)
    for document in documents_of(session, connection_id, [s.transaction_id for s in sources]):
        grouped[document.transaction_id].append(document)
    return grouped


@dataclass(frozen=True)
class _MappingVersions:
    """Which mapping version was in force at a moment: the newest saved at or before it.

    The outbox row is written when the transaction is planned, under the newest mapping, so
    its creation time names the version that planned it; a held transaction is re-planned
    under the newest version, so it shows that one.
    """

    moments: list[Any]
    numbers: list[int]

    @classmethod
    def of(cls, session: Session, connection_id: int) -> _MappingVersions:
        rows = session.scalars(
            select(MappingVersion)
            .where(MappingVersion.xero_connection_id == connection_id)
            .order_by(MappingVersion.version)
        ).all()
        return cls([row.created_at for row in rows], [row.version for row in rows])

    def at(self, moment: Any) -> str:
        index = bisect_right(self.moments, moment)
        return str(self.numbers[index - 1]) if index else ""

    def newest(self) -> str:
        return str(self.numbers[-1]) if self.numbers else ""


def _transaction_columns(source: SourceTransaction) -> dict[str, str]:
    seen = amazon_transaction(source)
    return {
        "transaction_date": _day(source),
        "transaction_id": source.transaction_id,
        "order_ids": source.order_ids,
        "instrument": seen.instrument,
        "currency": seen.currency,
        "amazon_amount": "" if seen.amount is None else str(seen.amount),
        "transaction_status": source.status,
        "reason_code": source.reason_code,
        "reason": source.reason,
        "remedy": source.remedy,
        "needs_review": "yes" if source.needs_review else "no",
    }


def _no_document(source: SourceTransaction, versions: _MappingVersions) -> dict[str, str]:
    planned_by = versions.newest() if source.status == SourceStatus.HELD else ""
    empty = dict.fromkeys(COLUMNS[COLUMNS.index("role") :], "")
    return empty | {"mapping_version": planned_by}


def _document_columns(
    document: OutboxDocument, short_code: str, versions: _MappingVersions
) -> dict[str, str]:
    payload = jsontext.loads(document.payload)
    number = next((str(payload[k]) for k in NUMBER_FIELDS if payload.get(k)), "")
    return {
        "role": document.role,
        "xero_endpoint": document.endpoint,
        "xero_number": number,
        "xero_id": document.xero_id,
        "xero_link": deep_link(short_code, document.role, document.xero_id) or "",
        "document_amount": str(document.amount),
        "document_status": document.status,
        "document_error": document.error,
        "mapping_version": versions.at(document.created_at),
    }


def as_csv(export: Export) -> str:
    """The rows under a header of ``COLUMNS``; RFC 4180 quoting, ``\\r\\n`` line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in export.rows:
        writer.writerow({column: _cell(row[column]) for column in COLUMNS})
    return out.getvalue()


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with ``'`` (OWASP CSV injection)."""
    risky = value[:1] in {"=", "+", "-", "@", "\t", "\r"} and not _number(value)
    return f"'{value}" if risky else value


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def as_json(export: Export) -> str:
    body = {
        "organisation": export.organisation,
        "tenant_id": export.tenant_id,
        "since": export.since,
        "until": export.until,
        "columns": list(COLUMNS),
        "rows": [{column: row[column] for column in COLUMNS} for row in export.rows],
    }
    return jsontext.dumps(body, sort_keys=False) + "\n"
