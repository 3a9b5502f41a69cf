"""Payments against bills and credit notes, and credit-note allocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from abxero_sim.xero.documents import BuildContext, lock_date_error
from abxero_sim.xero.ids import ZERO_GUID
from abxero_sim.xero.lines import money
from abxero_sim.xero.state import Org, Record
from abxero_sim.xero.wire import parse_date, to_decimal

_PAYMENT_TYPES = {
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
}


@dataclass
class Target:
    """The document a payment or allocation settles."""

    record: Record
    is_credit_note: bool

    @property
    def outstanding(self) -> Decimal:
        key = "RemainingCredit" if self.is_credit_note else "AmountDue"
        return Decimal(self.record[key])

    def settle(self, amount: Decimal, when: date, field: str) -> None:
        """Reduce what is outstanding; mark the document PAID when nothing is left."""
        if self.is_credit_note:
            self.record["RemainingCredit"] = self.outstanding - amount
        else:
            self.record["AmountDue"] = self.outstanding - amount
            self.record[field] = Decimal(self.record[field]) + amount
        if self.outstanding == 0:
            self.record["Status"] = "PAID"
            if not self.is_credit_note:
                self.record["FullyPaidOnDate"] = when


def _find_target(org: Org, raw: Record, errors: list[str]) -> Target | None:
    invoice, credit = raw.get("Invoice"), raw.get("CreditNote")
    if isinstance(invoice, dict):
        record = _lookup(org.invoices, invoice, "InvoiceID", "InvoiceNumber")
        if record is None:
            errors.append("Invoice could not be found")
        return Target(record, False) if record else None
    if isinstance(credit, dict):
        record = _lookup(org.credit_notes, credit, "CreditNoteID", "CreditNoteNumber")
        if record is None:
            errors.append("Credit Note could not be found")
        return Target(record, True) if record else None
    errors.append("An Invoice, CreditNote, Prepayment or Overpayment must be specified")
    return None


def _lookup(
    store: dict[str, Record], ref: dict[str, Any], id_key: str, number_key: str
) -> Record | None:
    if ref.get(id_key):
        return store.get(str(ref[id_key]).lower())
    number = ref.get(number_key)
    return next((r for r in store.values() if number and r.get(number_key) == number), None)


def _payment_account(org: Org, raw: Any, errors: list[str]) -> Record | None:
    account = None
    if isinstance(raw, dict) and raw.get("AccountID"):
        account = org.account_by_id(str(raw["AccountID"]))
    elif isinstance(raw, dict) and raw.get("Code"):
        account = org.account_by_code(str(raw["Code"]))
    if account is None:
        errors.append("Account could not be found")
        return None
    if account["Status"] != "ACTIVE":
        errors.append(f"The account '{account['Name']}' has been archived, or has been deleted.")
    if account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
        errors.append("Account type is invalid for making a payment to/from")
    return account


def build_payment(ctx: BuildContext, raw: Record) -> tuple[Record, list[str], Target | None]:
    """Validate one payment; return the stored shape, its errors and what it pays."""
    errors: list[str] = []
    target = _find_target(ctx.org, raw, errors)
    account = _payment_account(ctx.org, raw.get("Account"), errors)
    when = parse_date(raw.get("Date")) or ctx.org.today(ctx.now)
    locked = lock_date_error(ctx.org, when)
    if locked:
        errors.append(locked)
    amount = to_decimal(raw.get("Amount"))
    if amount is None or amount <= 0:
        errors.append("Payment amount must be greater than zero")
        amount = Decimal("0.00")
    amount = money(amount)
    if target is not None:
        _check_target(ctx.org, target, account, amount, errors)
    record: Record = dict(raw)
    record.update(Date=when, Amount=amount, Status="AUTHORISED")
    record["IsReconciled"] = bool(raw.get("IsReconciled", False))
    if account is not None:
        record["Account"] = {"AccountID": account["AccountID"], "Code": account.get("Code")}
    if target is not None:
        record["PaymentType"] = _PAYMENT_TYPES.get(target.record["Type"], "ACCPAYPAYMENT")
        record["CurrencyRate"] = target.record.get("CurrencyRate", Decimal(1))
    return record, errors, target


def _check_target(
    org: Org, target: Target, account: Record | None, amount: Decimal, errors: list[str]
) -> None:
    label = "Credit Note" if target.is_credit_note else "Invoice"
    if target.record["Status"] != "AUTHORISED":
        errors.append(f"{label} not of valid status for creating payment")
        return
    if amount > target.outstanding:
        errors.append(f"Payment amount exceeds the amount outstanding on this {label.lower()}")
    bank_currency = (account or {}).get("CurrencyCode")
    doc_currency = target.record.get("CurrencyCode")
    if bank_currency and bank_currency not in {doc_currency, org.base_currency}:
        errors.append(
            "The currency of the bank account does not match the currency of the document"
        )


def apply_payment(ctx: BuildContext, record: Record, target: Target) -> None:
    """Record a valid payment and settle its document."""
    record["PaymentID"] = ctx.ids.guid("payment")
    record.update(UpdatedDateUTC=ctx.now, HasAccount=True, StatusAttributeString="OK")
    document = target.record
    id_key = "CreditNoteID" if target.is_credit_note else "InvoiceID"
    record["CreditNote" if target.is_credit_note else "Invoice"] = {
        id_key: document[id_key],
        "Type": document["Type"],
        "Contact": document.get("Contact"),
        "InvoiceNumber" if not target.is_credit_note else "CreditNoteNumber": document.get(
            "InvoiceNumber" if not target.is_credit_note else "CreditNoteNumber"
        ),
    }
    target.settle(record["Amount"], record["Date"], "AmountPaid")
    document.setdefault("Payments", []).append(
        {"PaymentID": record["PaymentID"], "Date": record["Date"], "Amount": record["Amount"]}
    )
    document["UpdatedDateUTC"] = ctx.now
    ctx.org.payments[record["PaymentID"]] = record


def failed_payment(record: Record, errors: list[str]) -> Record:
    """The echoed payment Xero returns when it refuses one."""
    failed = dict(record)
    failed.update(
        PaymentID=ZERO_GUID,
        HasErrors=True,
        StatusAttributeString="ERROR",
        ValidationErrors=[{"Message": m} for m in errors],
    )
    return failed


def build_allocation(
    ctx: BuildContext, credit_note: Record, raw: Record
) -> tuple[Record, list[str], Record | None]:
    """Validate allocating part of ``credit_note`` to a bill."""
    errors: list[str] = []
    invoice_ref = raw.get("Invoice") or {}
    invoice = _lookup(ctx.org.invoices, invoice_ref, "InvoiceID", "InvoiceNumber")
    amount = money(to_decimal(raw.get("Amount")) or Decimal(0))
    when = parse_date(raw.get("Date")) or ctx.org.today(ctx.now)
    if credit_note["Status"] != "AUTHORISED":
        errors.append("Credit Note not of valid status for allocation")
    if invoice is None:
        errors.append("Invoice could not be found")
    else:
        _check_allocation(credit_note, invoice, amount, errors)
    locked = lock_date_error(ctx.org, when)
    if locked:
        errors.append(locked)
    if amount <= 0:
        errors.append("Allocation amount must be greater than zero")
    record: Record = {"Amount": amount, "Date": when, "Invoice": invoice_ref}
    return record, errors, invoice


def _check_allocation(
    credit_note: Record, invoice: Record, amount: Decimal, errors: list[str]
) -> None:
    expected = "ACCPAY" if credit_note["Type"] == "ACCPAYCREDIT" else "ACCREC"
    if invoice["Type"] != expected:
        errors.append("A credit note can only be allocated to an invoice of the same side")
    if invoice["Status"] != "AUTHORISED":
        errors.append("Invoice not of valid status for allocation")
    if amount > Decimal(credit_note["RemainingCredit"]):
        errors.append("The amount allocated cannot be more than the remaining credit")
    if amount > Decimal(invoice["AmountDue"]):
        errors.append("The amount allocated cannot be more than the amount due on the invoice")
    if invoice.get("CurrencyCode") != credit_note.get("CurrencyCode"):
        errors.append("The credit note and invoice must be in the same currency")


def apply_allocation(
    ctx: BuildContext, credit_note: Record, record: Record, invoice: Record
) -> None:
    """Record a valid allocation on both documents."""
    record["AllocationID"] = ctx.ids.guid("allocation")
    record["Invoice"] = {
        "InvoiceID": invoice["InvoiceID"],
        "InvoiceNumber": invoice.get("InvoiceNumber"),
    }
    record["CreditNote"] = {"CreditNoteID": credit_note["CreditNoteID"]}
    Target(credit_note, True).settle(record["Amount"], record["Date"], "")
    Target(invoice, False).settle(record["Amount"], record["Date"], "AmountCredited")
    credit_note.setdefault("Allocations", []).append(record)
    invoice.setdefault("CreditNotes", []).append(
        {"CreditNoteID": credit_note["CreditNoteID"], "AppliedAmount": record["Amount"]}
    )
    ctx.org.allocations.append(record)
