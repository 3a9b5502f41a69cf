"""What planning produces: the Xero documents to create, or why nothing is posted.

Payload conventions (shared with the engine and the Xero client):

* payloads use Xero's field names; money, quantities and unit prices are ``Decimal`` (2 dp
  amounts, up to 4 dp unit prices, so send with ``unitdp=4``); dates are ``YYYY-MM-DD`` text;
* every document has a stable ``key`` ``"<transactionId>:<role>"``;
* a document that needs the Xero id of another lists it in ``links``: at send time the id of the
  document ``link.key`` is written at ``link.path`` of the payload (see :func:`resolve_links`);
  e.g. a bill payment has ``Link("<id>:bill", ("Invoice", "InvoiceID"))``. An allocation carries
  the credit note's id at ``CreditNote.CreditNoteID`` (the client puts it in the URL path
  ``/CreditNotes/{CreditNoteID}/Allocations``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from abxero.domain.money import ZERO, inclusive_tax, money_sum, round_money
from abxero.domain.transactions import Quarantined


class Role(StrEnum):
    BILL = "bill"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    REFUND = "refund"
    ALLOCATION = "allocation"
    SPEND = "spend"
    RECEIVE = "receive"


class Endpoint(StrEnum):
    INVOICES = "Invoices"
    CREDIT_NOTES = "CreditNotes"
    PAYMENTS = "Payments"
    BANK_TRANSACTIONS = "BankTransactions"
    ALLOCATIONS = "Allocations"


@dataclass(frozen=True)
class Link:
    """Write the Xero id of document ``key`` at ``path`` of the payload before sending."""

    key: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class PlannedDocument:
    """One Xero document to create; ``amount`` is its total (never negative)."""

    key: str
    role: Role
    endpoint: Endpoint
    payload: dict[str, Any] = field(hash=False)
    amount: Decimal
    currency: str
    depends_on: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class UnappliedCredit:
    """Credit of a Pay-by-Invoice refund that is not allocated to a bill, and why."""

    amount: Decimal
    reason: str


UNAPPLIED_CODE = "unapplied_credit"
UNAPPLIED_REMEDY = (
    "The credit note is in Xero as credit on the Amazon Business contact, not yet set against "
    "a bill. If its bill comes in later (e.g. import the earlier months), abxero allocates the "
    "credit then by itself; if the bill was entered by hand, open the credit note in Xero and "
    "allocate it to that bill."
)


@dataclass(frozen=True)
class Planned:
    """Documents to post; ``review_notes`` say what a person should look at once (never a hold);
    ``unapplied`` is a Pay-by-Invoice credit (or part of one) left without a bill."""

    transaction_id: str
    documents: tuple[PlannedDocument, ...]
    review_notes: tuple[str, ...] = ()
    unapplied: UnappliedCredit | None = None


class HoldCode(StrEnum):
    PAYMENT_METHOD_NOT_MAPPED = "payment_method_not_mapped"
    CURRENCY_NOT_ENABLED = "currency_not_enabled"
    PERIOD_LOCKED = "period_locked"
    ACCOUNT_UNUSABLE = "account_unusable"
    TAX_RATE_NOT_MAPPED = "tax_rate_not_mapped"
    TAX_TYPE_UNUSABLE = "tax_type_unusable"
    TRACKING_UNUSABLE = "tracking_unusable"
    CONTACT_MISSING = "contact_missing"
    CONTACT_ARCHIVED = "contact_archived"


@dataclass(frozen=True)
class Held:
    """Nothing posted until the user acts: ``remedy`` says how."""

    transaction_id: str
    code: HoldCode
    message: str
    remedy: str


@dataclass(frozen=True)
class Skipped:
    transaction_id: str
    reason: str


Plan = Planned | Held | Quarantined | Skipped

REVIEW_CODE = "amazon_review"
REVIEW_REMEDY = (
    "Nothing is held: the document posted with Amazon's amount. Compare its lines (and any "
    "'Amazon adjustment' line) with the Amazon order and recode them in Xero if needed."
)


@dataclass(frozen=True)
class ReviewEvent:
    """The one event the engine records for a planned transaction that has review notes."""

    code: str
    message: str
    remedy: str


def review_event(plan: Plan) -> ReviewEvent | None:
    """The review event of ``plan``, or ``None`` when nothing needs a person's eye."""
    if not isinstance(plan, Planned) or not plan.review_notes:
        return None
    message = f"Amazon transaction {plan.transaction_id}: " + "; ".join(plan.review_notes)
    return ReviewEvent(REVIEW_CODE, message, REVIEW_REMEDY)


class UnresolvedLink(LookupError):
    """A document is sent before the document it links to has a Xero id."""


def resolve_links(
    payload: Mapping[str, Any], links: Iterable[Link], xero_ids: Mapping[str, str]
) -> dict[str, Any]:
    """A copy of ``payload`` with the Xero id of each link's document written at its path.

    The one place links are filled in: for a planned document (``document.payload``,
    ``document.links``) and for a stored outbox row when its batch is opened.
    """
    resolved: dict[str, Any] = copy.deepcopy(dict(payload))
    for link in links:
        if link.key not in xero_ids:
            raise UnresolvedLink(f"the document needs the Xero id of {link.key}")
        target = resolved
        for name in link.path[:-1]:
            target = target.setdefault(name, {})
        target[link.path[-1]] = xero_ids[link.key]
    return resolved


@dataclass(frozen=True)
class DocumentTotals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def document_totals(
    payload: Mapping[str, Any], rates: Mapping[str, Decimal] | None = None
) -> DocumentTotals:
    """Totals as Xero computes them: per line, rounded to the cent, then summed.

    Payments and allocations have no lines; their total is their ``Amount``. A line without
    ``TaxAmount`` on an ``Inclusive`` document gets the tax Xero computes for it when ``rates``
    (tax type → rate as a fraction) is given: see :func:`~abxero.domain.money.inclusive_tax`.
    """
    lines = payload.get("LineItems")
    if lines is None:
        amount = Decimal(payload.get("Amount", ZERO))
        return DocumentTotals(amount, ZERO, amount)
    amounts = [_line_amount(line) for line in lines]
    pairs = zip(lines, amounts, strict=True)
    taxes = [_line_tax(line, amount, payload, rates) for line, amount in pairs]
    if payload.get("LineAmountTypes") == "NoTax":
        taxes = [ZERO for _ in lines]
    sub_total, total_tax = money_sum(amounts), money_sum(taxes)
    if payload.get("LineAmountTypes") == "Inclusive":
        return DocumentTotals(sub_total - total_tax, total_tax, sub_total)
    return DocumentTotals(sub_total, total_tax, sub_total + total_tax)


def _line_tax(
    line: Mapping[str, Any],
    amount: Decimal,
    payload: Mapping[str, Any],
    rates: Mapping[str, Decimal] | None,
) -> Decimal:
    if "TaxAmount" in line or rates is None or payload.get("LineAmountTypes") != "Inclusive":
        return round_money(Decimal(line.get("TaxAmount", ZERO)))
    return inclusive_tax(amount, rates.get(str(line.get("TaxType")), ZERO))


def _line_amount(line: Mapping[str, Any]) -> Decimal:
    if "LineAmount" in line:
        return round_money(Decimal(line["LineAmount"]))
    quantity = Decimal(line.get("Quantity", 1))
    return round_money(quantity * Decimal(line.get("UnitAmount", ZERO)))


def json_ready(value: Any) -> Any:
    """Plain JSON data: Decimals become exact strings, tuples lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(name): json_ready(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value


def plan_as_dict(plan: Plan) -> dict[str, Any]:
    """A JSON-ready description of a plan (used by golden files and previews)."""
    if isinstance(plan, Planned):
        described: dict[str, Any] = {
            "outcome": "planned",
            "transaction_id": plan.transaction_id,
            "documents": [_document_as_dict(document) for document in plan.documents],
        }
        if plan.review_notes:
            described["review_notes"] = list(plan.review_notes)
        if plan.unapplied:
            described["unapplied_credit"] = {
                "amount": str(plan.unapplied.amount),
                "reason": plan.unapplied.reason,
            }
        return described
    if isinstance(plan, Held):
        return {
            "outcome": "held",
            "transaction_id": plan.transaction_id,
            "code": plan.code.value,
            "message": plan.message,
            "remedy": plan.remedy,
        }
    if isinstance(plan, Skipped):
        return {"outcome": "skipped", "transaction_id": plan.transaction_id, "reason": plan.reason}
    return {"outcome": "quarantined", "transaction_id": plan.transaction_id, "reason": plan.reason}


def _document_as_dict(document: PlannedDocument) -> dict[str, Any]:
    return {
        "key": document.key,
        "role": document.role.value,
        "endpoint": document.endpoint.value,
        "amount": str(document.amount),
        "currency": document.currency,
        "depends_on": list(document.depends_on),
        "links": [{"key": link.key, "path": list(link.path)} for link in document.links],
        "payload": json_ready(document.payload),
    }
