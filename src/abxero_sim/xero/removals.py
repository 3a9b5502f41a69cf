"""Taking things out of Xero as Xero allows it: allocations, and what reconciliation forbids.

* ``DELETE /CreditNotes/{CreditNoteID}/Allocations/{AllocationID}`` (``deleteCreditNoteAllocations``
  in xero_accounting.yaml) answers the Allocation with ``IsDeleted: true`` and gives the credit
  back to both documents (xero-python#159 shows the call succeeding).
* A payment or a spend/receive-money bank transaction that is reconciled to a bank statement
  line cannot be deleted by an app: in Xero a person must first "Remove & Redo" the bank
  reconciliation. ``IsReconciled`` is the flag Xero reports on both (spec: Payment.IsReconciled
  "whether a payment has been reconciled when using GET"; BankTransaction.IsReconciled
  "Boolean to show if transaction is reconciled"). A bill with a reconciled payment cannot be
  edited: "This document cannot be edited as it has a reconciled payment or credit note
  allocated to it." (Xero's text as quoted by support.ascora.com.au). No public source quotes
  Xero's exact words when deleting a reconciled payment or bank transaction; the two texts
  below are ours and say the same thing.
* The ``/_sim/orgs/{ref}/reconcile`` admin knob marks payments and bank transactions
  reconciled, as a person reconciling the bank account in Xero would.
"""

from __future__ import annotations

from decimal import Decimal

from abxero_sim.xero.call import Call, Reply, not_found, validation_exception
from abxero_sim.xero.state import Org, Record

RECONCILED_PAYMENT = (
    "This payment has been reconciled with a bank statement line and cannot be deleted. "
    "Remove the reconciliation in Xero first."
)
RECONCILED_BANK_TRANSACTION = (
    "This bank transaction has been reconciled with a bank statement line and cannot be "
    "deleted. Remove the reconciliation in Xero first."
)
RECONCILED_DOCUMENT = (
    "This document cannot be edited as it has a reconciled payment or credit note allocated to it."
)


def payment_refusal(payment: Record) -> str | None:
    """Why Xero would refuse to delete ``payment``, or None."""
    return RECONCILED_PAYMENT if payment.get("IsReconciled") else None


def bank_transaction_refusal(record: Record, target: str) -> str | None:
    """Why Xero would refuse to move a reconciled bank transaction to ``target``, or None."""
    if target in {"DELETED", "VOIDED"} and record.get("IsReconciled"):
        return RECONCILED_BANK_TRANSACTION
    return None


def credit_note_touched(record: Record) -> bool:
    """Whether part of a credit note is allocated or refunded (it cannot be voided then)."""
    remaining = Decimal(str(record.get("RemainingCredit", record.get("Total", 0))))
    return remaining != Decimal(str(record.get("Total", 0)))


def delete_allocation(call: Call) -> Reply:
    """``DELETE CreditNotes/{id}/Allocations/{AllocationID}``: the credit goes back."""
    credit_note = call.org.credit_notes.get(call.parts[1].lower())
    if credit_note is None:
        return not_found("CreditNotes")
    allocation_id = call.parts[3].lower()
    allocation = next(
        (
            a
            for a in credit_note.get("Allocations", [])
            if str(a.get("AllocationID", "")).lower() == allocation_id
        ),
        None,
    )
    if allocation is None:
        return not_found("Allocations")
    invoice = call.org.invoices.get(str(allocation["Invoice"]["InvoiceID"]).lower())
    if invoice is not None and _has_reconciled_payment(call.org, invoice):
        return validation_exception(message=RECONCILED_DOCUMENT)
    _give_back(credit_note, invoice, allocation)
    call.org.allocations = [a for a in call.org.allocations if a is not allocation]
    credit_note["UpdatedDateUTC"] = call.ctx.now
    reply = call.envelope(
        "Allocations",
        [
            {
                "AllocationID": allocation["AllocationID"],
                "Date": allocation["Date"],
                "Amount": allocation["Amount"],
                "Invoice": {"InvoiceID": allocation["Invoice"]["InvoiceID"]},
                "IsDeleted": True,
            }
        ],
    )
    reply.wrote = True
    return reply


def _has_reconciled_payment(org: Org, invoice: Record) -> bool:
    for ref in invoice.get("Payments", []):
        payment = org.payments.get(str(ref.get("PaymentID", "")).lower())
        if payment is not None and payment["Status"] != "DELETED" and payment.get("IsReconciled"):
            return True
    return False


def _give_back(credit_note: Record, invoice: Record | None, allocation: Record) -> None:
    amount = Decimal(allocation["Amount"])
    credit_note["Allocations"] = [
        a for a in credit_note.get("Allocations", []) if a is not allocation
    ]
    credit_note["RemainingCredit"] = Decimal(credit_note["RemainingCredit"]) + amount
    credit_note["Status"] = "AUTHORISED"
    if invoice is None:
        return
    invoice["AmountDue"] = Decimal(invoice["AmountDue"]) + amount
    invoice["AmountCredited"] = Decimal(invoice.get("AmountCredited", 0)) - amount
    invoice["Status"] = "AUTHORISED"
    invoice.pop("FullyPaidOnDate", None)
    wanted = str(credit_note["CreditNoteID"]).lower()
    kept, removed = [], False
    for ref in invoice.get("CreditNotes", []):
        same = str(ref.get("CreditNoteID", "")).lower() == wanted
        if same and not removed and Decimal(ref.get("AppliedAmount", 0)) == amount:
            removed = True
            continue
        kept.append(ref)
    invoice["CreditNotes"] = kept


def mark_reconciled(org: Org, payment_ids: list[str], bank_transaction_ids: list[str]) -> int:
    """Set ``IsReconciled`` on the named payments and bank transactions; how many were found."""
    found = 0
    for store, ids in ((org.payments, payment_ids), (org.bank_transactions, bank_transaction_ids)):
        for identifier in ids:
            record = store.get(str(identifier).lower())
            if record is not None:
                record["IsReconciled"] = True
                found += 1
    return found
