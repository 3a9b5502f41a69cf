"""Typed calls of the Accounting API that the sync engine needs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

import httpx
from pydantic import BaseModel

from abxero.xero.errors import NotFoundError, RejectedError, RetriableError
from abxero.xero.models import (
    Account,
    Attachment,
    BatchResult,
    Contact,
    Currency,
    DocumentSummary,
    ElementResult,
    Organisation,
    OrganisationFacts,
    PaymentSummary,
    TaxRate,
    TrackingCategory,
)
from abxero.xero.transport import AccountingTransport, CallOptions
from abxero.xero.wire import decode_json, encode_json

MAX_BATCH = 50
PAGE_SIZE = 100
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
Payload = Mapping[str, Any]
M = TypeVar("M", bound=BaseModel)
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9 ._\-]+")


@dataclass(frozen=True)
class _Kind:
    plural: str
    id_field: str
    number_field: str | None
    outstanding_field: str | None


INVOICES = _Kind("Invoices", "InvoiceID", "InvoiceNumber", "AmountDue")
CREDIT_NOTES = _Kind("CreditNotes", "CreditNoteID", "CreditNoteNumber", "RemainingCredit")
BANK_TRANSACTIONS = _Kind("BankTransactions", "BankTransactionID", None, None)
PAYMENTS = _Kind("Payments", "PaymentID", None, None)
ALLOCATIONS = _Kind("Allocations", "AllocationID", None, None)
CONTACTS = _Kind("Contacts", "ContactID", None, None)
_DOCUMENT_KINDS = {k.plural: k for k in (INVOICES, CREDIT_NOTES, BANK_TRANSACTIONS)}
_UNIT_PRICED = (INVOICES, CREDIT_NOTES, BANK_TRANSACTIONS)


def _kind_of_path(path: str) -> _Kind:
    if path.endswith("/Allocations"):
        return ALLOCATIONS
    for kind in (INVOICES, CREDIT_NOTES, BANK_TRANSACTIONS, PAYMENTS, CONTACTS):
        if path == kind.plural:
            return kind
    raise ValueError(f"not a batch path: {path!r}")


def write_query(path: str) -> str:
    """The query string a batch PUT to ``path`` is sent with.

    Always ``summarizeErrors=false`` (one outcome per element). Documents whose lines carry a
    ``UnitAmount`` (Invoices, CreditNotes, BankTransactions) also opt in to four-decimal unit
    prices with ``unitdp=4``: without it the API takes two decimals and a 4-dp price fails the
    line total check ("The line total … does not match the expected line total …";
    developer.xero.com "Rounding in Xero": "By default, the API accepts unit prices (UnitAmount)
    to two decimals places … opt-in to 4 decimal places"; XeroAPI/Xero-NetStandard#147).
    """
    kind = _kind_of_path(path)
    pairs = [("summarizeErrors", "false")]
    if kind in _UNIT_PRICED:
        pairs.append(("unitdp", "4"))
    return urlencode(pairs)


def _query_params(query: str) -> httpx.QueryParams:
    """A stored query string as the pairs to send, refusing one without per-element results."""
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    if ("summarizeErrors", "false") not in pairs:
        raise ValueError(f"a batch must be sent with summarizeErrors=false, not {query!r}")
    return httpx.QueryParams(query)


def guid_filter(path: str, value: str) -> str:
    """A ``where`` term ``path==Guid("value")``; ``value`` must be a GUID (it is checked)."""
    try:
        guid = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(f"not a GUID: {value!r}") from error
    return f'{path}==Guid("{guid}")'


def date_filter(path: str, day: date) -> str:
    """A ``where`` term matching ``path`` on one calendar day (digits only, nothing to escape).

    Xero documents ``Date >= DateTime(2015, 01, 01) && Date < DateTime(2015, 12, 31)`` as the
    way to filter on dates (developer.xero.com, requests-and-responses, "where").
    """
    after = day + timedelta(days=1)
    return (
        f"{path}>=DateTime({day.year},{day.month:02d},{day.day:02d}) AND "
        f"{path}<DateTime({after.year},{after.month:02d},{after.day:02d})"
    )


def text_filter(path: str, value: str) -> str:
    """A ``where`` term ``path=="value"`` for a fixed text of our own.

    Xero publishes no escaping rule for quotes inside a ``where`` string, so a value we do not
    control (an Amazon invoice number) never goes into a ``where`` clause: lookups use the
    ``InvoiceNumbers``/``IDs`` parameters or GUID and date terms and compare text themselves.
    This helper takes only plain values and says so with a ValueError.
    """
    if not _PLAIN_TEXT.fullmatch(value):
        raise ValueError(f"not a plain where value: {value!r}")
    return f'{path}=="{value}"'


def list_parameter(values: Sequence[str]) -> str | None:
    """Comma-joined values for ``IDs``/``InvoiceNumbers``/…, or None when one holds a comma.

    Xero splits these parameters on commas with no escape, so a value containing one cannot be
    asked for exactly; the caller then filters by other means and compares itself.
    """
    if not values or any("," in value or not value.strip() for value in values):
        return None
    return ",".join(values)


class XeroAccounting:
    """The Accounting API for one tenant, over an :class:`AccountingTransport`."""

    def __init__(self, transport: AccountingTransport) -> None:
        self._transport = transport

    @property
    def tenant_id(self) -> str:
        return self._transport.tenant_id

    # reads -------------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = self._transport.call("GET", path, CallOptions(params=params))
        body: dict[str, Any] = decode_json(response.content)
        return body

    def _list(
        self, path: str, root: str, model: type[M], params: Mapping[str, str] | None = None
    ) -> list[M]:
        return [model.model_validate(item) for item in self._get(path, params).get(root, [])]

    def organisation(self) -> Organisation:
        return Organisation.model_validate(self._get("Organisation")["Organisations"][0])

    def accounts(self, where: str | None = None) -> list[Account]:
        return self._list("Accounts", "Accounts", Account, {"where": where} if where else None)

    def tax_rates(self, where: str | None = None) -> list[TaxRate]:
        return self._list("TaxRates", "TaxRates", TaxRate, {"where": where} if where else None)

    def currencies(self) -> list[Currency]:
        return self._list("Currencies", "Currencies", Currency)

    def tracking_categories(self, include_archived: bool = False) -> list[TrackingCategory]:
        params = {"includeArchived": "true"} if include_archived else None
        return self._list("TrackingCategories", "TrackingCategories", TrackingCategory, params)

    def org_context(self) -> OrganisationFacts:
        """Organisation, chart of accounts, tax rates, currencies and tracking in one object."""
        return OrganisationFacts(
            organisation=self.organisation(),
            accounts=tuple(self.accounts()),
            tax_rates=tuple(self.tax_rates()),
            currencies=tuple(self.currencies()),
            tracking_categories=tuple(self.tracking_categories()),
        )

    def get_contact(self, contact_id: str) -> Contact | None:
        """The contact (archived ones too), or None when it does not exist."""
        try:
            found = self._get(f"Contacts/{quote(contact_id)}").get("Contacts", [])
        except NotFoundError:
            return None
        return Contact.model_validate(found[0]) if found else None

    def find_contacts(
        self,
        *,
        where: str | None = None,
        search_term: str | None = None,
        include_archived: bool = False,
        ids: Sequence[str] = (),
    ) -> list[Contact]:
        """Contacts by ``where``, ``searchTerm`` or ``IDs`` ("a comma separated list of
        ContactIDs … a specific set of contacts in a single call", getContacts in
        xero_accounting.yaml)."""
        params = {"includeArchived": str(include_archived).lower()}
        if where:
            params["where"] = where
        if search_term:
            params["searchTerm"] = search_term
        if ids:
            params["IDs"] = ",".join(ids)
        return self._list("Contacts", "Contacts", Contact, params)

    def _paged(self, path: str, root: str, params: dict[str, str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._get(path, {**params, "page": str(page), "pageSize": str(PAGE_SIZE)})
            items = body.get(root, [])
            found.extend(items)
            if len(items) < PAGE_SIZE:
                return found
            page += 1

    def find_documents(
        self,
        kind: str,
        *,
        where: str | None = None,
        ids: Sequence[str] = (),
        numbers: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
    ) -> list[DocumentSummary]:
        """Invoices, CreditNotes or BankTransactions matching every given filter (all pages).

        The spec lists ``ContactIDs`` (and ``IDs``/``Statuses``/``InvoiceNumbers``) only on
        ``GET /Invoices``; Xero ignores them elsewhere and answers every contact's documents, so
        the contact filter is also applied here to what comes back.
        """
        spec = _DOCUMENT_KINDS[kind]
        params: dict[str, str] = {}
        if where:
            params["where"] = where
        for name, values in (("IDs", ids), ("ContactIDs", contact_ids), ("Statuses", statuses)):
            if values:
                params[name] = ",".join(values)
        if numbers:
            params["InvoiceNumbers"] = ",".join(numbers)
        found = [summarise(spec, raw) for raw in self._paged(kind, kind, params)]
        if contact_ids:
            wanted = {contact_id.lower() for contact_id in contact_ids}
            found = [doc for doc in found if (doc.contact_id or "").lower() in wanted]
        return found

    def get_document(self, kind: str, document_id: str) -> dict[str, Any] | None:
        """The full stored document (with line items), or None."""
        try:
            items = self._get(f"{kind}/{quote(document_id)}").get(kind, [])
        except NotFoundError:
            return None
        return dict(items[0]) if items else None

    def find_payments(
        self,
        *,
        invoice_id: str | None = None,
        credit_note_id: str | None = None,
        where: str | None = None,
    ) -> list[PaymentSummary]:
        """Payments, e.g. those made on one bill."""
        terms = [where] if where else []
        if invoice_id:
            terms.append(guid_filter("Invoice.InvoiceID", invoice_id))
        if credit_note_id:
            terms.append(guid_filter("CreditNote.CreditNoteID", credit_note_id))
        params = {"where": " AND ".join(terms)} if terms else {}
        return [
            PaymentSummary.model_validate(p) for p in self._paged("Payments", "Payments", params)
        ]

    # writes ------------------------------------------------------------------------------

    def _batch(self, path: str, kind: _Kind, items: Sequence[Payload], key: str) -> BatchResult:
        if not 1 <= len(items) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} elements, not {len(items)}")
        body = encode_json({kind.plural: list(items)})
        return self._send_body(path, kind, body, len(items), key, write_query(path))

    def send_stored_batch(
        self, path: str, body: bytes, idempotency_key: str, query: str | None = None
    ) -> BatchResult:
        """PUT a batch exactly as stored: path, query, body and key (a resend repeats it).

        ``path`` is ``Invoices``, ``CreditNotes``, ``BankTransactions``, ``Payments`` or
        ``CreditNotes/{id}/Allocations``; the body's root holds 1 to 50 elements. ``query`` is
        the query string stored with the batch (``write_query(path)`` when not given); it must
        ask for ``summarizeErrors=false``, since the outcome is read element by element.
        """
        kind = _kind_of_path(path)
        count = len(decode_json(body).get(kind.plural, []))
        if not 1 <= count <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} elements, not {count}")
        stored = write_query(path) if query is None else query
        return self._send_body(path, kind, body, count, idempotency_key, stored)

    def _send_body(
        self, path: str, kind: _Kind, body: bytes, count: int, key: str, query: str
    ) -> BatchResult:
        options = CallOptions(
            params=_query_params(query),
            content=body,
            content_type="application/json",
            idempotency_key=key,
        )
        response = self._transport.call("PUT", path, options)
        returned = _listed_elements(response, kind)
        if len(returned) != count:
            raise RejectedError(
                response.status_code, f"sent {count} elements, got {len(returned)} back"
            )
        return BatchResult(
            elements=tuple(element_result(i, kind, e) for i, e in enumerate(returned))
        )

    def create_contacts(self, contacts: Sequence[Payload], idempotency_key: str) -> BatchResult:
        return self._batch("Contacts", CONTACTS, contacts, idempotency_key)

    def upload_attachment(
        self,
        kind: str,
        document_id: str,
        file_name: str,
        content: bytes,
        mime_type: str,
        idempotency_key: str,
    ) -> Attachment:
        """Attach a file to an invoice, credit note or bank transaction (same name replaces)."""
        path = f"{kind}/{quote(document_id)}/Attachments/{quote(file_name)}"
        options = CallOptions(
            content=content, content_type=mime_type, idempotency_key=idempotency_key
        )
        response = self._transport.call("PUT", path, options)
        return Attachment.model_validate(decode_json(response.content)["Attachments"][0])

    # removals (rollback) -------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> dict[str, Any] | None:
        """One payment with ``Status`` and ``IsReconciled``, or None when it does not exist."""
        try:
            items = self._get(f"Payments/{quote(payment_id)}").get("Payments", [])
        except NotFoundError:
            return None
        return dict(items[0]) if items else None

    def delete_payment(self, payment_id: str, idempotency_key: str) -> None:
        """``POST /Payments/{PaymentID}`` with ``{"Status": "DELETED"}`` (``deletePayment``,
        request schema ``PaymentDelete`` in xero_accounting.yaml); raises on a refusal."""
        self._post_update(f"Payments/{quote(payment_id)}", {"Status": "DELETED"}, idempotency_key)

    def update_status(
        self, kind: str, document_id: str, document: Payload, idempotency_key: str
    ) -> None:
        """``POST /{kind}/{id}`` with one element (``updateInvoice``, ``updateCreditNote``,
        ``updateBankTransaction``): e.g. ``Status`` VOIDED or DELETED; raises on a refusal."""
        body = {kind: [dict(document)]}
        self._post_update(f"{kind}/{quote(document_id)}", body, idempotency_key)

    def delete_allocation(self, credit_note_id: str, allocation_id: str) -> bool:
        """``DELETE /CreditNotes/{id}/Allocations/{AllocationID}``
        (``deleteCreditNoteAllocations``);
        False when Xero no longer has the allocation (404)."""
        path = f"CreditNotes/{quote(credit_note_id)}/Allocations/{quote(allocation_id)}"
        try:
            self._transport.call("DELETE", path)
        except NotFoundError:
            return False
        return True

    def _post_update(self, path: str, body: Payload, idempotency_key: str) -> None:
        options = CallOptions(
            content=encode_json(body),
            content_type="application/json",
            idempotency_key=idempotency_key,
        )
        self._transport.call("POST", path, options)


def _listed_elements(response: httpx.Response, kind: _Kind) -> list[dict[str, Any]]:
    """The elements of a batch answer; an answer we cannot read may still have been applied."""
    try:
        decoded = decode_json(response.content)
    except ValueError:
        decoded = None
    returned = decoded.get(kind.plural, []) if isinstance(decoded, dict) else None
    if not isinstance(returned, list) or not all(isinstance(e, dict) for e in returned):
        raise RetriableError(
            f"Xero answered {response.status_code} with a batch we cannot read",
            may_have_applied=True,
        )
    return returned


def _messages(entries: Any) -> tuple[str, ...]:
    """The ``Message`` of each validation error or warning, however it is shaped."""
    if not isinstance(entries, list):
        return (str(entries),) if entries else ()
    return tuple(str(e.get("Message") if isinstance(e, dict) else e) for e in entries)


def element_result(index: int, kind: _Kind, element: dict[str, Any]) -> ElementResult:
    """One element of a ``summarizeErrors=false`` response, typed."""
    errors = _messages(element.get("ValidationErrors"))
    warnings = _messages(element.get("Warnings"))
    status = str(element.get("StatusAttributeString") or ("ERROR" if errors else "OK"))
    xero_id = element.get(kind.id_field)
    ok = status != "ERROR" and not errors and not element.get("HasErrors")
    return ElementResult(
        index=index,
        ok=ok,
        status=status,
        xero_id=str(xero_id) if ok and xero_id and xero_id != ZERO_GUID else None,
        errors=errors,
        warnings=warnings,
        data=element,
    )


def summarise(kind: _Kind, raw: dict[str, Any]) -> DocumentSummary:
    """The reconciliation view of a document."""
    return DocumentSummary.model_validate(
        {
            "id": raw[kind.id_field],
            "type": raw.get("Type", ""),
            "status": raw.get("Status", ""),
            "number": raw.get(kind.number_field) if kind.number_field else None,
            "reference": raw.get("Reference"),
            "contact_id": (raw.get("Contact") or {}).get("ContactID"),
            "date": raw.get("Date"),
            "currency_code": raw.get("CurrencyCode"),
            "total": raw.get("Total", 0),
            "amount_due": raw.get(kind.outstanding_field) if kind.outstanding_field else None,
            "raw": raw,
        }
    )
