"""Invoices, CreditNotes, BankTransactions and Payments: list, get, create, update; allocations."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from abxero_sim.xero.batch import run_batch
from abxero_sim.xero.call import Call, Reply, not_found
from abxero_sim.xero.documents import (
    BANK_TRANSACTIONS,
    CREDIT_NOTES,
    INVOICES,
    BuildContext,
    DocKind,
    build_document,
    finish_created,
    store_of,
)
from abxero_sim.xero.ids import ZERO_GUID
from abxero_sim.xero.paging import page_of
from abxero_sim.xero.payments import (
    apply_allocation,
    apply_payment,
    build_allocation,
    build_payment,
)
from abxero_sim.xero.removals import (
    bank_transaction_refusal,
    credit_note_touched,
    payment_refusal,
)
from abxero_sim.xero.settings_resources import filtered
from abxero_sim.xero.state import Record

KINDS = {kind.plural: kind for kind in (INVOICES, CREDIT_NOTES, BANK_TRANSACTIONS)}
_LIST_FILTERS = {
    "IDs": None,
    "InvoiceNumbers": "InvoiceNumber",
    "ContactIDs": "Contact.ContactID",
    "Statuses": "Status",
}


def _summary(record: Record) -> Record:
    return {k: v for k, v in record.items() if k != "LineItems"}


def _apply_list_filters(call: Call, kind: DocKind, items: list[Record]) -> list[Record]:
    for param, path in _LIST_FILTERS.items():
        raw = call.query.get(param)
        if not raw:
            continue
        wanted = {v.strip().lower() for v in raw.split(",")}
        field = path or kind.id_field
        items = [i for i in items if str(_dig(i, field)).lower() in wanted]
    term = call.query.get("searchTerm")
    if term and kind is INVOICES:
        items = [i for i in items if _matches_search(i, term)]
    return items


def _matches_search(record: Record, term: str) -> bool:
    """``searchTerm`` on GET Invoices: "a case-insensitive text search across the fields e.g.
    InvoiceNumber, Reference" (xero_accounting.yaml, components.parameters.searchTerm)."""
    wanted = term.strip().lower()
    return any(wanted in str(record.get(name) or "").lower() for name in _SEARCHED)


_SEARCHED = ("InvoiceNumber", "Reference")


def _dig(record: Record, path: str) -> object:
    value: object = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def list_or_get(call: Call) -> Reply:
    kind = KINDS[call.parts[0]]
    store = store_of(call.org, kind)
    places = _unit_places(call)
    if len(call.parts) > 1:
        found = store.get(call.parts[1].lower())
        if found is None:
            return not_found(kind.plural)
        return call.envelope(kind.plural, [_with_unit_places(found, places)])
    items = _apply_list_filters(call, kind, list(store.values()))
    result = filtered(call, items)
    if isinstance(result, Reply):
        return result
    page, extra = page_of(call, result)
    if not extra:
        page = [_summary(item) for item in page]
    return call.envelope(kind.plural, [_with_unit_places(i, places) for i in page], **extra)


def _with_unit_places(record: Record, places: int) -> Record:
    """The document as a read shows it: unit prices at 2 dp unless the read asks ``unitdp=4``.

    Xero: "unitdp=4 ... on both writes and reads" (docs: api-guides/rounding-in-xero).
    """
    lines = record.get("LineItems")
    if places >= 4 or not isinstance(lines, list):
        return record
    step = Decimal(1).scaleb(-places)
    shown = []
    for line in lines:
        unit = line.get("UnitAmount")
        if isinstance(unit, Decimal):
            line = {**line, "UnitAmount": unit.quantize(step, rounding=ROUND_HALF_UP)}
        shown.append(line)
    return {**record, "LineItems": shown}


def _ctx(call: Call) -> BuildContext:
    return replace(call.ctx, unit_places=_unit_places(call))


def _unit_places(call: Call) -> int:
    """4 with ``unitdp=4``, else Xero's default of 2 (docs: api-guides/rounding-in-xero)."""
    return 4 if call.query.get("unitdp") == "4" else 2


def write(call: Call) -> Reply:
    kind = KINDS[call.parts[0]]
    if len(call.parts) > 1 and isinstance(call.payload, dict):
        for item in call.payload.get(kind.plural, []):
            if isinstance(item, dict):
                item.setdefault(kind.id_field, call.parts[1])
    ctx = _ctx(call)

    def write_one(call: Call, raw: Record) -> tuple[Record, list[str]]:
        existing_id = str(raw.get(kind.id_field) or "").lower()
        if existing_id and call.method == "POST":
            return _update(call, kind, existing_id, raw)
        record, errors = build_document(ctx, kind, raw)
        if errors:
            return {**record, kind.id_field: ZERO_GUID}, errors
        finish_created(ctx, kind, record)
        store_of(call.org, kind)[record[kind.id_field]] = record
        _history(call, record[kind.id_field], "Created", f"{kind.label} created.")
        return record, []

    return run_batch(call, kind.plural, write_one)


_TRANSITIONS = {
    ("DRAFT", "SUBMITTED"),
    ("DRAFT", "AUTHORISED"),
    ("SUBMITTED", "AUTHORISED"),
    ("DRAFT", "DELETED"),
    ("SUBMITTED", "DELETED"),
    ("AUTHORISED", "VOIDED"),
}
_BANK_TRANSITIONS = {("AUTHORISED", "DELETED"), ("AUTHORISED", "VOIDED")}
"""Spend/receive money is deleted (or voided) from AUTHORISED (xero-api.md §4.4: Status
AUTHORISED, DELETED, VOIDED; xeroizer#437 and xero-php#137 delete them with Status DELETED)."""


def _update(call: Call, kind: DocKind, doc_id: str, raw: Record) -> tuple[Record, list[str]]:
    record = store_of(call.org, kind).get(doc_id)
    if record is None:
        return {**raw, kind.id_field: ZERO_GUID}, [f"{kind.label} could not be found"]
    target = str(raw.get("Status") or record["Status"])
    if target != record["Status"]:
        allowed = _BANK_TRANSITIONS if kind is BANK_TRANSACTIONS else _TRANSITIONS
        if (record["Status"], target) not in allowed:
            return record, [f"{kind.label} cannot be changed from {record['Status']} to {target}."]
        refusal = bank_transaction_refusal(record, target) if kind is BANK_TRANSACTIONS else None
        if refusal:
            return record, [refusal]
        touched = bool(
            Decimal(record.get("AmountPaid", 0)) or Decimal(record.get("AmountCredited", 0))
        ) or (kind is CREDIT_NOTES and credit_note_touched(record))
        if target == "VOIDED" and touched:
            return record, [
                "This document cannot be edited as it has a payment or credit note allocated to it."
            ]
        record["Status"] = target
    for key in ("Reference", "Url", "DueDate", "PlannedPaymentDate"):
        if key in raw:
            record[key] = raw[key]
    record["UpdatedDateUTC"] = call.ctx.now
    _history(call, doc_id, "Updated", f"{kind.label} updated; status {record['Status']}.")
    return record, []


def _history(call: Call, doc_id: str, change: str, details: str) -> None:
    call.org.history.setdefault(doc_id.lower(), []).append(
        {"Changes": change, "DateUTC": call.ctx.now, "User": "System Generated", "Details": details}
    )


def list_payments(call: Call) -> Reply:
    store = call.org.payments
    if len(call.parts) > 1:
        found = store.get(call.parts[1].lower())
        return call.envelope("Payments", [found]) if found else not_found("Payments")
    result = filtered(call, list(store.values()))
    if isinstance(result, Reply):
        return result
    page, extra = page_of(call, result)
    return call.envelope("Payments", page, **extra)


def write_payments(call: Call) -> Reply:
    ctx = _ctx(call)

    def write_one(call: Call, raw: Record) -> tuple[Record, list[str]]:
        if call.method == "POST" and len(call.parts) > 1:
            return _delete_payment(call, call.parts[1].lower(), raw)
        record, errors, target = build_payment(ctx, raw)
        if errors or target is None:
            return {**record, "PaymentID": ZERO_GUID}, errors or ["Invoice could not be found"]
        apply_payment(ctx, record, target)
        return record, []

    return run_batch(call, "Payments", write_one)


def _delete_payment(call: Call, payment_id: str, raw: Record) -> tuple[Record, list[str]]:
    payment = call.org.payments.get(payment_id)
    if payment is None:
        return {**raw, "PaymentID": ZERO_GUID}, ["Payment could not be found"]
    if raw.get("Status") != "DELETED" or payment["Status"] == "DELETED":
        return payment, ["Only the Status of a payment can be changed, to DELETED."]
    refusal = payment_refusal(payment)
    if refusal:
        return payment, [refusal]
    payment["Status"] = "DELETED"
    ref = payment.get("Invoice") or payment.get("CreditNote") or {}
    doc = call.org.document(str(ref.get("InvoiceID") or ref.get("CreditNoteID") or ""))
    if doc is not None:
        amount = Decimal(payment["Amount"])
        key = "RemainingCredit" if "CreditNoteID" in ref else "AmountDue"
        doc[key] = Decimal(doc[key]) + amount
        if "AmountPaid" in doc:
            doc["AmountPaid"] = Decimal(doc["AmountPaid"]) - amount
        doc["Status"] = "AUTHORISED"
        doc["Payments"] = [
            p for p in doc.get("Payments", []) if str(p.get("PaymentID", "")).lower() != payment_id
        ]
    return payment, []


def write_allocations(call: Call) -> Reply:
    credit_note = call.org.credit_notes.get(call.parts[1].lower())
    if credit_note is None:
        return not_found("CreditNotes")
    ctx = _ctx(call)

    def write_one(call: Call, raw: Record) -> tuple[Record, list[str]]:
        record, errors, invoice = build_allocation(ctx, credit_note, raw)
        if errors or invoice is None:
            return record, errors
        apply_allocation(ctx, credit_note, record, invoice)
        return record, []

    return run_batch(call, "Allocations", write_one)
