"""A trial balance computed from what has been posted, so tests can check the books."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from abxero_sim.xero.state import Org, Record

_POSTED = {"AUTHORISED", "PAID"}


def _post(book: dict[str, Decimal], code: str, debit: Decimal) -> None:
    book[code] += debit


def _document(org: Org, book: dict[str, Decimal], doc: Record, sign: int, counter: str) -> None:
    """Lines on one side, tax to the tax account, the total against ``counter``."""
    tax_code = str(org.system_account("GST")["Code"])
    for line in doc["LineItems"]:
        net = Decimal(line["LineAmount"]) - (
            Decimal(line["TaxAmount"]) if doc["LineAmountTypes"] == "Inclusive" else 0
        )
        _post(book, str(line["AccountCode"]), sign * net)
        _post(book, tax_code, sign * Decimal(line["TaxAmount"]))
    _post(book, counter, -sign * Decimal(doc["Total"]))


def trial_balance(org: Org) -> dict[str, Any]:
    """Debits positive, credits negative, per account code; the total is always zero."""
    book: dict[str, Decimal] = defaultdict(Decimal)
    payables = str(org.system_account("CREDITORS")["Code"])
    receivables = str(org.system_account("DEBTORS")["Code"])
    signs = {"ACCPAY": 1, "ACCPAYCREDIT": -1, "ACCREC": -1, "ACCRECCREDIT": 1}
    for doc in [*org.invoices.values(), *org.credit_notes.values()]:
        if doc["Status"] in _POSTED:
            counter = payables if doc["Type"].startswith("ACCPAY") else receivables
            _document(org, book, doc, signs[doc["Type"]], counter)
    for txn in org.bank_transactions.values():
        if txn["Status"] in _POSTED:
            sign = 1 if txn["Type"] == "SPEND" else -1
            _document(org, book, txn, sign, str(txn["BankAccount"]["Code"]))
    for payment in org.payments.values():
        if payment["Status"] == "AUTHORISED":
            _payment(book, payment, payables, receivables)
    rows = {code: amount for code, amount in sorted(book.items()) if amount}
    return {"accounts": rows, "total": sum(rows.values(), Decimal(0))}


def _payment(book: dict[str, Decimal], payment: Record, payables: str, receivables: str) -> None:
    amount = Decimal(payment["Amount"])
    bank = str(payment["Account"]["Code"])
    kind = payment.get("PaymentType", "ACCPAYPAYMENT")
    sign = {"ACCPAYPAYMENT": 1, "APCREDITPAYMENT": -1, "ACCRECPAYMENT": -1, "ARCREDITPAYMENT": 1}[
        kind
    ]
    counter = payables if kind in {"ACCPAYPAYMENT", "APCREDITPAYMENT"} else receivables
    _post(book, counter, sign * amount)
    _post(book, bank, -sign * amount)
