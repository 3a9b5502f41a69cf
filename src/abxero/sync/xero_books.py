"""The engine's view of Xero (``XeroBooks``) over our Accounting API client."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from abxero.domain.context import Account, OrgContext, TaxRate, TrackingCategory, TrackingOption
from abxero.domain.plan import Endpoint, document_totals
from abxero.domain.timezones import resolve_timezone
from abxero.sync.batches import ElementOutcome, OutgoingBatch
from abxero.sync.ports import ComeBackAt, ContactState, NeedsReconnect, TryLater
from abxero.xero import (
    BatchResult,
    Contact,
    DayLimitError,
    DocumentSummary,
    NeedsReconnectError,
    PaymentSummary,
    RejectedError,
    RetriableError,
    ValidationFailedError,
    XeroAccounting,
    XeroError,
    date_filter,
    guid_filter,
    list_parameter,
    text_filter,
)
from abxero.xero.models import Account as XeroAccount
from abxero.xero.models import OrganisationFacts
from abxero.xero.models import TaxRate as XeroTaxRate
from abxero.xero.models import TrackingCategory as XeroTrackingCategory

T = TypeVar("T")
#: Which account class each of a tax rate's ``CanApplyTo…`` flags lets it be used with.
APPLIES_TO = {
    "can_apply_to_assets": "ASSET",
    "can_apply_to_equity": "EQUITY",
    "can_apply_to_expenses": "EXPENSE",
    "can_apply_to_liabilities": "LIABILITY",
    "can_apply_to_revenue": "REVENUE",
}
GONE = {"DELETED", "VOIDED"}
ID_CHUNK = 50
"""ContactIDs per ``IDs`` lookup, keeping the URL short."""


def org_context(facts: OrganisationFacts, contact_id: str) -> OrgContext:
    """Planning's context from the organisation as Xero's client parsed it (read now or
    recalled from ``context_reads``): the one step from Xero's shape to the domain's.

    Xero's field meanings (Accounts, TaxRates, Organisation): developer.xero.com/documentation/
    api/accounting/accounts, /taxrates and /organisation. Tests and benchmarks build contexts
    from Xero JSON through this same step (``tests/context_json.py``).
    """
    organisation = facts.organisation
    timezone = resolve_timezone(organisation.timezone or "UTC")
    base = organisation.base_currency or ""
    return OrgContext(
        base_currency=base,
        country_code=organisation.country_code or "",
        timezone=timezone.zone,
        contact_id=contact_id,
        accounts=tuple(_account(account) for account in facts.accounts),
        tax_rates=tuple(_tax_rate(rate) for rate in facts.tax_rates),
        enabled_currencies=frozenset(currency.code for currency in facts.currencies) | {base},
        tracking_categories=tuple(_tracking(category) for category in facts.tracking_categories),
        period_lock_date=organisation.period_lock_date,
        end_of_year_lock_date=organisation.end_of_year_lock_date,
        name=organisation.name or "",
        short_code=organisation.short_code or "",
        notes=(timezone.note,) if timezone.note else (),
    )


def _account(account: XeroAccount) -> Account:
    return Account(
        account_id=account.account_id,
        code=account.code or "",
        name=account.name,
        type=account.type,
        status=account.status or "ACTIVE",
        account_class=account.class_ or "",
        bank_account_type=account.bank_account_type or "",
        tax_type=account.tax_type or "",
        enable_payments=account.enable_payments_to_account,
        currency=account.currency_code or "",
        system_account=account.system_account or "",
    )


def _tax_rate(rate: XeroTaxRate) -> TaxRate:
    return TaxRate(
        tax_type=rate.tax_type,
        name=rate.name,
        status=rate.status or "ACTIVE",
        report_tax_type=rate.report_tax_type or "",
        effective_rate=rate.effective_rate,
        applies_to=frozenset(
            account_class for flag, account_class in APPLIES_TO.items() if getattr(rate, flag)
        ),
    )


def _tracking(category: XeroTrackingCategory) -> TrackingCategory:
    return TrackingCategory(
        category_id=category.tracking_category_id,
        name=category.name,
        status=category.status or "ACTIVE",
        options=tuple(
            TrackingOption(option.tracking_option_id, option.name, option.status or "ACTIVE")
            for option in category.options
        ),
    )


def translated(call: Callable[[], T]) -> T:
    """Run a client call, turning its errors into what the engine acts on."""
    try:
        return call()
    except DayLimitError as problem:
        raise ComeBackAt("xero", str(problem), problem.retry_at) from problem
    except NeedsReconnectError as problem:
        raise NeedsReconnect("xero", f"Xero refused our access: {problem}") from problem
    except RetriableError as problem:
        raise TryLater("xero", f"Xero did not answer properly: {problem}") from problem


class XeroBooksClient:
    """Reads the organisation, keeps the supplier contact, sends stored batches, finds documents."""

    def __init__(self, api: XeroAccounting) -> None:
        self._api = api

    def organisation_facts(self) -> OrganisationFacts:
        return translated(self._api.org_context)

    def ensure_contact(
        self, contact_id: str | None, name: str, key_suffix: str = ""
    ) -> ContactState:
        if contact_id:
            stored = translated(lambda: self._api.get_contact(contact_id))
            if stored is not None:
                return ContactState(stored.contact_id, stored.is_archived, stored.name)
        for contact in sorted(self._same_name(name), key=lambda found: found.is_archived):
            return ContactState(contact.contact_id, contact.is_archived, contact.name)
        key = f"abx-contact-{self._api.tenant_id}{key_suffix}"
        created = translated(lambda: self._api.create_contacts([{"Name": name}], key))
        element = created.elements[0]
        if not element.ok or not element.xero_id:
            raise TryLater("xero", f"could not create the contact: {'; '.join(element.errors)}")
        return ContactState(element.xero_id, False, name)

    def archived_contacts(self, contact_ids: Sequence[str]) -> set[str]:
        archived: set[str] = set()
        ids = sorted(set(contact_ids))
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            archived |= {c.contact_id.lower() for c in self._contacts_by_id(chunk) if c.is_archived}
        return {i for i in contact_ids if i.lower() in archived}

    def _contacts_by_id(self, ids: Sequence[str]) -> list[Contact]:
        return translated(lambda: self._api.find_contacts(ids=ids, include_archived=True))

    def _same_name(self, name: str) -> list[Contact]:
        """Contacts called ``name`` (case ignored). A seller's legal name may hold commas or
        quotes, which never go into a ``where`` clause: those are looked up with
        ``searchTerm`` (a case-insensitive text search over Name and more, getContacts in
        xero_accounting.yaml) and compared here."""
        try:
            where = text_filter("Name", name)
        except ValueError:
            found = translated(
                lambda: self._api.find_contacts(search_term=name, include_archived=True)
            )
            return [contact for contact in found if _same_text(contact.name, name)]
        return translated(lambda: self._api.find_contacts(where=where, include_archived=True))

    def send(self, batch: OutgoingBatch) -> list[ElementOutcome]:
        try:
            result = translated(
                lambda: self._api.send_stored_batch(
                    batch.path, batch.body.encode(), batch.idempotency_key, batch.query
                )
            )
        except (ValidationFailedError, RejectedError) as problem:
            messages = getattr(problem, "messages", None) or [str(problem)]
            return [ElementOutcome(False, errors=tuple(messages))] * batch.document_count
        return outcomes(result)

    def find(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> str | None:
        try:
            return translated(lambda: self._find(endpoint, payload))
        except XeroError as problem:
            raise TryLater("xero", f"could not look a document up: {problem}") from problem

    def find_many(
        self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]]
    ) -> list[str | None]:
        """``find`` for every element of one interrupted batch, with one listing request per
        contact where Xero can list them together; one Xero document is never matched twice."""
        try:
            return translated(lambda: self._find_many(endpoint, payloads))
        except XeroError as problem:
            raise TryLater("xero", f"could not look documents up: {problem}") from problem

    def _find_many(
        self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]]
    ) -> list[str | None]:
        if endpoint is Endpoint.PAYMENTS:
            return self._find_payments(payloads)
        if endpoint is Endpoint.ALLOCATIONS:
            return [self._find(endpoint, payload) for payload in payloads]
        wanted = [_Wanted.of(endpoint, payload) for payload in payloads]
        listable = [item for item in wanted if item.day and _is_guid(item.contact)]
        pool = self._list_like(endpoint, listable) if len(listable) > 1 else []
        taken: set[str] = set()
        found: list[str | None] = []
        for item, payload in zip(wanted, payloads, strict=True):
            if item in listable and len(listable) > 1:
                match = next((d for d in pool if d.id not in taken and item.matches(d)), None)
                identifier = match.id if match else None
            else:
                identifier = self._find(endpoint, payload)
            if identifier in taken:
                identifier = None  # the per-document lookup found one already matched
            if identifier:
                taken.add(identifier)
            found.append(identifier)
        return found

    def _list_like(self, endpoint: Endpoint, wanted: Sequence[_Wanted]) -> list[DocumentSummary]:
        """Every document that may be one of ``wanted`` (each has a day and a contact GUID):
        one listing per contact over the batch's date range. ``GET /Invoices`` also takes
        ``ContactIDs`` and ``InvoiceNumbers`` (xero_accounting.yaml, getInvoices), so bills are
        listed in one request; the other kinds filter on ``Contact.ContactID`` in ``where``."""
        days = [item.day for item in wanted if item.day]
        period = date_range_filter("Date", min(days), max(days))
        contacts = sorted({item.contact for item in wanted})
        if endpoint is Endpoint.INVOICES:
            numbers = sorted({item.number for item in wanted})
            return self._api.find_documents(
                endpoint.value,
                where=period,
                contact_ids=contacts,
                numbers=numbers if list_parameter(numbers) else [],
            )
        found: list[DocumentSummary] = []
        for contact in contacts:
            where = f"{guid_filter('Contact.ContactID', contact)} AND {period}"
            found += self._api.find_documents(endpoint.value, where=where)
        return found

    def _find_payments(self, payloads: Sequence[Mapping[str, Any]]) -> list[str | None]:
        """Payments of one batch from one listing over their dates (``GET /Payments`` takes a
        ``where``, xero_accounting.yaml getPayments), matched as ``_find_payment`` does: on
        the same invoice or credit note, same amount, not deleted; each payment once."""
        days = [_day(payload) for payload in payloads]
        if len(payloads) < 2 or None in days:
            return [self._find(Endpoint.PAYMENTS, payload) for payload in payloads]
        known = [day for day in days if day is not None]
        pool = self._api.find_payments(where=date_range_filter("Date", min(known), max(known)))
        taken: set[str] = set()
        found: list[str | None] = []
        for payload in payloads:
            match = next((p for p in pool if p.payment_id not in taken and _pays(p, payload)), None)
            if match is not None:
                taken.add(match.payment_id)
            found.append(match.payment_id if match else None)
        return found

    def _find(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> str | None:
        if endpoint is Endpoint.PAYMENTS:
            return self._find_payment(payload)
        if endpoint is Endpoint.ALLOCATIONS:
            return self._find_allocation(payload)
        return self._find_document(endpoint, payload)

    def _find_document(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> str | None:
        """The document like ``payload``: same contact, number, day and total, not voided.

        Amazon's text (an invoice number may hold quotes, backslashes, commas, any unicode)
        never enters a ``where`` clause: Xero narrows by GUID, by day and, for invoices, by
        the ``ContactIDs``/``InvoiceNumbers`` parameters the spec lists for ``GET /Invoices``;
        the number is compared here.
        """
        wanted = _Wanted.of(endpoint, payload)
        found = self._api.find_documents(endpoint.value, **wanted.narrowing(endpoint))
        for document in found:
            if wanted.matches(document):
                return document.id
        return None

    def _find_payment(self, payload: Mapping[str, Any]) -> str | None:
        invoice = payload.get("Invoice", {}).get("InvoiceID")
        credit_note = payload.get("CreditNote", {}).get("CreditNoteID")
        if not any(_is_guid(str(target)) for target in (invoice, credit_note) if target):
            return None  # no payment can exist on a document without a Xero id
        found = self._api.find_payments(invoice_id=invoice, credit_note_id=credit_note)
        amount = Decimal(str(payload.get("Amount", "0")))
        for payment in found:
            if payment.status != "DELETED" and payment.amount == amount:
                return payment.payment_id
        return None

    def _find_allocation(self, payload: Mapping[str, Any]) -> str | None:
        credit_note_id = str(payload["CreditNotePath"]).split("/")[1]
        document = self._api.get_document("CreditNotes", credit_note_id)
        invoice = payload.get("Invoice", {}).get("InvoiceID")
        amount = Decimal(str(payload.get("Amount", "0")))
        for allocation in (document or {}).get("Allocations", []):
            if (
                allocation.get("Invoice", {}).get("InvoiceID") == invoice
                and Decimal(str(allocation.get("Amount"))) == amount
            ):
                return str(allocation.get("AllocationID") or f"{credit_note_id}:{invoice}")
        return None


@dataclass(frozen=True)
class _Wanted:
    """What identifies a bill, credit note or bank transaction we may already have sent."""

    number_field: str
    number: str
    contact: str
    day: date | None
    total: Decimal

    @classmethod
    def of(cls, endpoint: Endpoint, payload: Mapping[str, Any]) -> _Wanted:
        number_field = _NUMBER_FIELDS.get(endpoint.value, "Reference")
        return cls(
            number_field=number_field,
            number=str(payload.get(number_field) or ""),
            contact=str((payload.get("Contact") or {}).get("ContactID") or ""),
            day=date.fromisoformat(str(payload["Date"])) if payload.get("Date") else None,
            total=document_totals(payload).total,
        )

    def narrowing(self, endpoint: Endpoint) -> dict[str, Any]:
        """Filters that only narrow the search; ``matches`` decides."""
        terms = [date_filter("Date", self.day)] if self.day else []
        filters: dict[str, Any] = {}
        if endpoint is Endpoint.INVOICES:
            filters["contact_ids"] = [self.contact] if _is_guid(self.contact) else []
            filters["numbers"] = [self.number] if list_parameter([self.number]) else []
        elif _is_guid(self.contact):
            terms.insert(0, guid_filter("Contact.ContactID", self.contact))
        filters["where"] = " AND ".join(terms) or None
        return filters

    def matches(self, document: DocumentSummary) -> bool:
        number = document.reference if self.number_field == "Reference" else document.number
        return (
            document.status not in GONE
            and document.total == self.total
            and (self.day is None or document.date == self.day)
            and (not self.contact or _same_text(document.contact_id, self.contact))
            and (not self.number or _same_text(number, self.number))
        )


_NUMBER_FIELDS = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber"}


def _day(payload: Mapping[str, Any]) -> date | None:
    return date.fromisoformat(str(payload["Date"])) if payload.get("Date") else None


def _pays(payment: PaymentSummary, payload: Mapping[str, Any]) -> bool:
    """Whether ``payment`` is the one ``payload`` asked for: same document, same amount."""
    invoice = str(payload.get("Invoice", {}).get("InvoiceID") or "")
    credit_note = str(payload.get("CreditNote", {}).get("CreditNoteID") or "")
    on_invoice = bool(invoice) and _same_text(
        payment.invoice.invoice_id if payment.invoice else None, invoice
    )
    on_credit_note = bool(credit_note) and _same_text(
        payment.credit_note.credit_note_id if payment.credit_note else None, credit_note
    )
    return (
        payment.status != "DELETED"
        and payment.amount == Decimal(str(payload.get("Amount", "0")))
        and (on_invoice or on_credit_note)
    )


def date_range_filter(path: str, first: date, last: date) -> str:
    """A ``where`` term for the days ``first`` to ``last`` inclusive, in the form Xero documents
    (``Date >= DateTime(…) && Date < DateTime(…)``, developer.xero.com requests-and-responses)."""
    after = last + timedelta(days=1)
    return (
        f"{path}>=DateTime({first.year},{first.month:02d},{first.day:02d}) AND "
        f"{path}<DateTime({after.year},{after.month:02d},{after.day:02d})"
    )


def _is_guid(value: str) -> bool:
    try:
        guid_filter("ContactID", value)
    except ValueError:
        return False
    return True


def _same_text(found: str | None, wanted: str) -> bool:
    """Equal but for case and surrounding spaces (a near match must not be missed: a miss
    resends the document)."""
    return (found or "").strip().casefold() == wanted.strip().casefold()


def outcomes(result: BatchResult) -> list[ElementOutcome]:
    return [
        ElementOutcome(element.ok, element.xero_id or "", tuple(element.errors))
        for element in result.elements
    ]
