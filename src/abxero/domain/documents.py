"""Xero JSON for each kind of planned document, and the text that ties it to Amazon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from abxero.domain.context import Account, OrgContext
from abxero.domain.lines import DESCRIPTION_LIMIT, DraftLine, trimmed
from abxero.domain.money import money_sum
from abxero.domain.plan import Endpoint, Link, PlannedDocument, Role
from abxero.domain.transactions import Transaction

NUMBER_LIMIT = 255
MARKETPLACE_HOSTS = {
    "ATVPDKIKX0DER": "www.amazon.com",
    "A1F83G8C2ARO7P": "www.amazon.co.uk",
}


def order_url(transaction: Transaction) -> str:
    """The Amazon order page of the transaction's (first) order, on its marketplace's site."""
    if not transaction.order_ids:
        return ""
    host = MARKETPLACE_HOSTS.get(transaction.marketplace_id)
    if host is None:
        host = "www.amazon.co.uk" if transaction.currency == "GBP" else "www.amazon.com"
    return f"https://{host}/gp/your-account/order-details?orderID={transaction.order_ids[0]}"


def document_number(transaction: Transaction) -> str:
    """The bill's or credit note's number: the Amazon order id(s) first, then Amazon's invoice
    number, else a suffix naming this charge.

    For supplier documents this number is the "Reference" Xero shows and searches: Xero ignores
    ``Reference`` on ACCPAY (xero_accounting.yaml, Invoice.Reference "ACCREC only";
    XeroAPI/Xero-NetStandard#249) and on ACCPAYCREDIT (CreditNote.Reference "ACCRECCREDIT
    only"), and maps the bill's ``InvoiceNumber`` to the Reference column (XeroAPI/
    xero-mcp-server#121). So the order id lives here, where ``GET Invoices?searchTerm=<order>``
    and ``GET CreditNotes?where=CreditNoteNumber.Contains("<order>")`` find it. The limit is
    ``InvoiceNumber``'s maxLength 255 (xero_accounting.yaml, Invoice.InvoiceNumber); the spec
    gives CreditNoteNumber none, so the same limit is kept. Never a comma: lookups pass
    numbers comma-joined in ``InvoiceNumbers``.
    """
    orders = " ".join(transaction.order_ids).replace(",", " ")
    number = " ".join(transaction.invoice_number.replace(",", " ").split())
    if number and orders:
        room = NUMBER_LIMIT - len(number) - len(" / ")
        if room >= len(orders):
            return f"{orders} / {number}"
        if room > 1:
            return f"{trimmed(orders, room)} / {number}"
    if number:
        return trimmed(number, NUMBER_LIMIT)
    suffix = transaction.charge_identifier or transaction.transaction_id
    if not orders:
        return trimmed(suffix, NUMBER_LIMIT)
    return trimmed(f"{orders}-{suffix}", NUMBER_LIMIT)


def payment_reference(transaction: Transaction) -> str:
    """The card-statement match: charge identifier and last four digits."""
    charge = transaction.charge_identifier or transaction.transaction_id
    return " ".join(part for part in (charge, transaction.instrument.last4) if part)


def sibling_note(transaction: Transaction) -> str:
    if not transaction.associated_transaction_ids:
        return ""
    siblings = ", ".join(transaction.associated_transaction_ids)
    return trimmed(f"Split payment: the rest was paid in Amazon transaction(s) {siblings}", 1000)


@dataclass(frozen=True)
class Drafting:
    """Everything the document builders share for one transaction."""

    transaction: Transaction
    context: OrgContext
    day: date
    lines: tuple[DraftLine, ...]
    explicit_tax: bool
    inclusive: bool = False
    """Lines are gross and Xero computes their tax (bank transactions in VAT mode)."""
    contact_id: str = ""
    """The supplier contact: the seller's own when chosen, else the organisation's default."""

    @property
    def key_prefix(self) -> str:
        return self.transaction.transaction_id

    def key(self, role: Role) -> str:
        return f"{self.key_prefix}:{role.value}"

    @property
    def total(self) -> Decimal:
        if self.inclusive:
            return money_sum(tuple(line.line_amount for line in self.lines))
        return money_sum(tuple(line.line_amount + line.tax_amount for line in self.lines))

    @property
    def currency(self) -> str:
        return self.transaction.currency

    def line_items(self) -> list[dict[str, Any]]:
        items = [line.payload(explicit_tax=self.explicit_tax) for line in self.lines]
        note = sibling_note(self.transaction)
        if note and items:
            first = items[0]
            first["Description"] = trimmed(first["Description"], DESCRIPTION_LIMIT - len(note) - 1)
            first["Description"] += "\n" + note
        return items

    @property
    def line_amount_types(self) -> str:
        if self.inclusive:
            return "Inclusive"
        return "Exclusive" if self.explicit_tax else "NoTax"

    def common(self) -> dict[str, Any]:
        return {
            "Contact": {"ContactID": self.contact_id or self.context.contact_id},
            "Date": self.day.isoformat(),
            "CurrencyCode": self.currency,
            "LineAmountTypes": self.line_amount_types,
            "Status": "AUTHORISED",
        }

    def document(
        self,
        role: Role,
        endpoint: Endpoint,
        payload: dict[str, Any],
        amount: Decimal,
        links: tuple[Link, ...] = (),
    ) -> PlannedDocument:
        return PlannedDocument(
            key=self.key(role),
            role=role,
            endpoint=endpoint,
            payload=payload,
            amount=amount,
            currency=self.currency,
            depends_on=tuple(dict.fromkeys(link.key for link in links)),
            links=links,
        )


def bill(drafting: Drafting, due_in_days: int) -> PlannedDocument:
    url = order_url(drafting.transaction)
    payload = {
        "Type": "ACCPAY",
        **drafting.common(),
        "DueDate": (drafting.day + timedelta(days=due_in_days)).isoformat(),
        "InvoiceNumber": document_number(drafting.transaction),
        **({"Url": url} if url else {}),
        "LineItems": drafting.line_items(),
    }
    return drafting.document(Role.BILL, Endpoint.INVOICES, payload, drafting.total)


def credit_note(drafting: Drafting) -> PlannedDocument:
    payload = {
        "Type": "ACCPAYCREDIT",
        **drafting.common(),
        "CreditNoteNumber": document_number(drafting.transaction),
        "LineItems": drafting.line_items(),
    }
    return drafting.document(Role.CREDIT_NOTE, Endpoint.CREDIT_NOTES, payload, drafting.total)


def payment(drafting: Drafting, paid: PlannedDocument, account: Account) -> PlannedDocument:
    """Pays ``paid`` (a bill) or refunds it (a credit note) through ``account``."""
    is_bill = paid.role is Role.BILL
    target = ("Invoice", "InvoiceID") if is_bill else ("CreditNote", "CreditNoteID")
    payload = {
        "Account": account.reference,
        "Date": drafting.day.isoformat(),
        "Amount": paid.amount,
        "Reference": payment_reference(drafting.transaction),
    }
    role = Role.PAYMENT if is_bill else Role.REFUND
    return drafting.document(
        role, Endpoint.PAYMENTS, payload, paid.amount, (Link(paid.key, target),)
    )


def bank_transaction(drafting: Drafting, account: Account) -> PlannedDocument:
    """Spend Money for a charge, Receive Money for a refund."""
    refund = drafting.transaction.transaction_type.is_refund
    url = order_url(drafting.transaction)
    payload = {
        "Type": "RECEIVE" if refund else "SPEND",
        **drafting.common(),
        "BankAccount": account.reference,
        "Reference": payment_reference(drafting.transaction),
        **({"Url": url} if url else {}),
        "LineItems": drafting.line_items(),
    }
    role = Role.RECEIVE if refund else Role.SPEND
    return drafting.document(role, Endpoint.BANK_TRANSACTIONS, payload, drafting.total)


def allocation(
    drafting: Drafting,
    credit: PlannedDocument,
    bill_key: str,
    bill_id: str | None,
    amount: Decimal,
) -> PlannedDocument:
    """Allocates ``amount`` of ``credit`` to the original bill (by id, or linked by key)."""
    return credit_allocation(
        credit.key, drafting.currency, drafting.day, bill_key, bill_id, amount, drafting.key_prefix
    )


def credit_allocation(
    credit_key: str,
    currency: str,
    day: date,
    bill_key: str,
    bill_id: str | None,
    amount: Decimal,
    key_prefix: str,
) -> PlannedDocument:
    """The allocation document of credit note ``credit_key`` (also made after the credit note
    was posted, once its bill is known)."""
    links = [Link(credit_key, ("CreditNote", "CreditNoteID"))]
    payload: dict[str, Any] = {"Amount": amount, "Date": day.isoformat()}
    if bill_id:
        payload["Invoice"] = {"InvoiceID": bill_id}
    else:
        links.append(Link(bill_key, ("Invoice", "InvoiceID")))
    return PlannedDocument(
        key=f"{key_prefix}:{Role.ALLOCATION.value}",
        role=Role.ALLOCATION,
        endpoint=Endpoint.ALLOCATIONS,
        payload=payload,
        amount=amount,
        currency=currency,
        depends_on=tuple(dict.fromkeys(link.key for link in links)),
        links=tuple(links),
    )
