"""What Xero holds now for a period: abxero's documents and payments, read back for the
reconciliation check.

Every read goes through the Accounting client, so it is paced per tenant like posting and paged
with ``page``/``pageSize=100`` (xero_accounting.yaml: getInvoices, getCreditNotes,
getBankTransactions and getPayments take ``page`` and ``pageSize``; 100 per page). Listing is
narrowed by abxero's contact and the period's dates (one day wider on each side: a document is
dated on the organisation's local day); a document of the ledger that the listing did not show
(its date edited, or Xero leaves deleted ones out) is then fetched by id, so a deleted or voided
document is reported with its status rather than silently missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from abxero.domain.reconciliation import XeroDocument
from abxero.sync.xero_books import date_range_filter, translated
from abxero.xero import DocumentSummary, PaymentSummary, XeroAccounting, guid_filter
from abxero.xero.accounting import BANK_TRANSACTIONS, CREDIT_NOTES, summarise

IDS_PER_REQUEST = 50
KINDS_BY_ROLE = {
    "bill": "Invoices",
    "credit_note": "CreditNotes",
    "spend": "BankTransactions",
    "receive": "BankTransactions",
    "payment": "Payments",
    "refund": "Payments",
}
ROLE_BY_TYPE = {
    "ACCPAY": "bill",
    "ACCPAYCREDIT": "credit_note",
    "SPEND": "spend",
    "RECEIVE": "receive",
}


@dataclass
class ReadBack:
    """Xero's documents by id, and those on abxero's contact no ledger row names."""

    by_id: dict[str, XeroDocument] = field(default_factory=dict)
    unknown: list[XeroDocument] = field(default_factory=list)


def read_back(
    api: XeroAccounting,
    contact_id: str,
    since: date,
    until: date,
    wanted: dict[str, str],
    known_ids: set[str],
) -> ReadBack:
    """``wanted`` maps each Xero id of the period's ledger documents to its role; ``known_ids``
    holds every Xero id the ledger has ever recorded for the organisation."""
    found = ReadBack()
    period = date_range_filter("Date", since - timedelta(days=1), until + timedelta(days=1))
    pays = any(KINDS_BY_ROLE.get(role) == "Payments" for role in wanted.values())
    listed = _list_payments(api, period) if pays else []
    if contact_id:  # no contact yet: abxero has posted no document
        listed = _list_documents(api, contact_id, period) + listed
    for document in listed:
        found.by_id[document.xero_id.lower()] = document
    missing = {xero_id.lower(): role for xero_id, role in wanted.items()}
    for xero_id in found.by_id:
        missing.pop(xero_id, None)
    for document in _fetch_by_id(api, missing):
        found.by_id[document.xero_id.lower()] = document
    known = {xero_id.lower() for xero_id in known_ids}
    found.unknown = [
        document
        for document in listed
        if document.kind != "Payments"
        and document.xero_id.lower() not in known
        and document.status not in {"DELETED", "VOIDED"}
        and document.day is not None
        and since <= document.day <= until
        and document.role
    ]
    return found


def _list_documents(api: XeroAccounting, contact_id: str, period: str) -> list[XeroDocument]:
    contact = guid_filter("Contact.ContactID", contact_id)
    bills = translated(
        lambda: api.find_documents("Invoices", where=period, contact_ids=[contact_id])
    )
    where = f"{contact} AND {period}"
    credit_notes = translated(lambda: api.find_documents("CreditNotes", where=where))
    bank = translated(lambda: api.find_documents("BankTransactions", where=where))
    return [
        _document(kind_of(summary), summary)
        for summary in [*bills, *credit_notes, *bank]
        if (summary.contact_id or "").lower() == contact_id.lower()
    ]


def kind_of(summary: DocumentSummary) -> str:
    if "InvoiceID" in summary.raw:
        return "Invoices"
    return "CreditNotes" if "CreditNoteID" in summary.raw else "BankTransactions"


def _document(kind: str, summary: DocumentSummary) -> XeroDocument:
    return XeroDocument(
        xero_id=summary.id,
        kind=kind,
        status=summary.status,
        total=summary.total,
        number=summary.number or summary.reference or "",
        day=summary.date,
        currency=summary.currency_code or "",
        role=ROLE_BY_TYPE.get(summary.type, ""),
    )


def _list_payments(api: XeroAccounting, period: str) -> list[XeroDocument]:
    return [_payment(payment) for payment in translated(lambda: api.find_payments(where=period))]


def _payment(payment: PaymentSummary) -> XeroDocument:
    return XeroDocument(
        xero_id=payment.payment_id,
        kind="Payments",
        status=payment.status or "",
        total=payment.amount,
        number=payment.reference or "",
        day=payment.date,
    )


def _fetch_by_id(api: XeroAccounting, missing: dict[str, str]) -> Iterable[XeroDocument]:
    """The ledger's documents the listings did not show: bills by ``IDs`` in one request per
    fifty, the rest one ``GET`` each; one Xero does not know is simply not returned."""
    bills = sorted(i for i, role in missing.items() if KINDS_BY_ROLE.get(role) == "Invoices")
    for chunk in _chunks(bills):
        for summary in _bills_by_id(api, chunk):
            yield _document("Invoices", summary)
    for xero_id, role in sorted(missing.items()):
        kind = KINDS_BY_ROLE.get(role)
        if kind is None or kind == "Invoices":
            continue
        raw = _get(api, kind, xero_id)
        if raw is None:
            continue
        if kind == "Payments":
            yield _payment(PaymentSummary.model_validate(raw))
        else:
            yield _document(kind, _summary_of(kind, raw))


def _summary_of(kind: str, raw: dict[str, Any]) -> DocumentSummary:
    return summarise(CREDIT_NOTES if kind == "CreditNotes" else BANK_TRANSACTIONS, dict(raw))


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), IDS_PER_REQUEST):
        yield list(items[start : start + IDS_PER_REQUEST])


def _get(api: XeroAccounting, kind: str, xero_id: str) -> dict[str, Any] | None:
    return translated(lambda: api.get_document(kind, xero_id))


def _bills_by_id(api: XeroAccounting, ids: list[str]) -> list[DocumentSummary]:
    return translated(lambda: api.find_documents("Invoices", ids=ids))
