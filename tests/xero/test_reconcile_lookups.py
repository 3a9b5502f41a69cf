"""Finding a document after a lost reply, whatever characters Amazon put in its number.

Before, the lookup put the number into a ``where`` clause and refused any value with a double
quote (ValueError before anything was fetched), so one such invoice number stopped the
organisation's recovery on every later run. Now Amazon's text never enters ``where``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from abxero.domain.plan import Endpoint
from abxero.sync.xero_books import XeroBooksClient
from abxero.xero import XeroAccounting
from tests.xero.xero_support import bill, line, payment, put_batch

NASTY = [
    'INV "5"',
    "INV\\7\\",
    'Rechnung Nr. „Müller“ – 東京 "x"\\',
    "A,B",
    'it\'s == "A" OR 1==1',
]


def taxed(amount: str = "10.00") -> dict[str, Any]:
    """A UK line with its VAT stated, as the planner writes it (so totals are known)."""
    return line(amount, TaxAmount=(Decimal(amount) / 5).quantize(Decimal("0.01")))


def amazon(api: XeroAccounting) -> str:
    return next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")


def _credit_note(contact: str, number: str) -> dict[str, Any]:
    return {
        "Type": "ACCPAYCREDIT",
        "Contact": {"ContactID": contact},
        "Date": "2026-07-02",
        "CreditNoteNumber": number,
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [taxed()],
    }


def _spend(contact: str, reference: str) -> dict[str, Any]:
    return {
        "Type": "SPEND",
        "Contact": {"ContactID": contact},
        "BankAccount": {"Code": "092"},
        "Date": "2026-07-01",
        "Reference": reference,
        "LineAmountTypes": "NoTax",
        "LineItems": [line("24.99", account="652", tax="NONE")],
    }


@pytest.mark.parametrize("number", NASTY)
def test_a_bill_is_found_whatever_its_number_holds(uk: XeroAccounting, number: str) -> None:
    contact = amazon(uk)
    payload = bill(contact, taxed(), InvoiceNumber=number)
    other = bill(contact, taxed(), InvoiceNumber=f"{number}-other")
    created = put_batch(uk, "Invoices", [payload, other], "nasty-bill")
    assert created.all_ok, [e.errors for e in created.elements]
    books = XeroBooksClient(uk)
    assert books.find(Endpoint.INVOICES, payload) == created.elements[0].xero_id
    assert books.find(Endpoint.INVOICES, bill(contact, taxed(), InvoiceNumber=f"{number}!")) is None


@pytest.mark.parametrize("number", NASTY)
def test_a_credit_note_is_found_whatever_its_number_holds(uk: XeroAccounting, number: str) -> None:
    contact = amazon(uk)
    payload = _credit_note(contact, number)
    created = put_batch(uk, "CreditNotes", [payload], "nasty-note")
    assert created.all_ok, created.elements[0].errors
    books = XeroBooksClient(uk)
    assert books.find(Endpoint.CREDIT_NOTES, payload) == created.elements[0].xero_id
    assert books.find(Endpoint.CREDIT_NOTES, _credit_note(contact, f"{number}!")) is None


@pytest.mark.parametrize("reference", NASTY)
def test_a_bank_transaction_is_found_whatever_its_reference_holds(
    us: XeroAccounting, reference: str
) -> None:
    contact = amazon(us)
    payload = _spend(contact, reference)
    created = put_batch(us, "BankTransactions", [payload], "nasty-spend")
    assert created.all_ok, created.elements[0].errors
    books = XeroBooksClient(us)
    assert books.find(Endpoint.BANK_TRANSACTIONS, payload) == created.elements[0].xero_id
    assert books.find(Endpoint.BANK_TRANSACTIONS, _spend(contact, f"{reference}!")) is None


def test_amazon_text_never_reaches_a_where_clause(http: httpx.Client, uk: XeroAccounting) -> None:
    """Only GUIDs and dates go into ``where``; the invoice number travels as the
    ``InvoiceNumbers`` parameter the spec lists for GET /Invoices (when it has no comma)."""
    contact = amazon(uk)
    sent: list[httpx.Request] = []
    http.event_hooks = {"request": [sent.append], "response": []}
    books = XeroBooksClient(uk)
    books.find(Endpoint.INVOICES, bill(contact, InvoiceNumber='INV "5"'))
    books.find(Endpoint.CREDIT_NOTES, _credit_note(contact, 'CN "5"'))
    wheres = [r.url.params.get("where", "") for r in sent]
    assert all('"5' not in where for where in wheres), wheres
    assert sent[0].url.params["InvoiceNumbers"] == 'INV "5"'
    assert sent[0].url.params["ContactIDs"] == contact
    assert "InvoiceNumbers" not in sent[1].url.params
    assert f'Contact.ContactID==Guid("{contact}")' in wheres[1]


def test_a_found_document_must_match_the_total(uk: XeroAccounting) -> None:
    contact = amazon(uk)
    payload = bill(contact, taxed(), InvoiceNumber='Q"1')
    created = put_batch(uk, "Invoices", [payload], "total-check")
    dearer = bill(contact, taxed("10.01"), InvoiceNumber='Q"1')
    books = XeroBooksClient(uk)
    assert books.find(Endpoint.INVOICES, dearer) is None
    assert books.find(Endpoint.INVOICES, payload) == created.elements[0].xero_id


def test_a_payment_on_a_bill_without_a_xero_id_is_not_looked_up_by_a_broken_filter(
    http: httpx.Client, uk: XeroAccounting
) -> None:
    """An older version recorded some bills as posted with no id; a payment on one cannot
    exist in Xero, and asking for ``Guid("")`` must not stop the recovery."""
    sent: list[httpx.Request] = []
    http.event_hooks = {"request": [sent.append], "response": []}
    payment = {"Invoice": {"InvoiceID": ""}, "Amount": Decimal("12.00"), "Date": "2026-07-01"}
    assert XeroBooksClient(uk).find(Endpoint.PAYMENTS, payment) is None
    assert not sent


def test_documents_by_contact_leave_out_other_contacts_where_xero_ignores_the_filter(
    uk: XeroAccounting,
) -> None:
    """``ContactIDs`` is listed only for ``GET /Invoices``; on credit notes Xero ignores it.

    The simulator now ignores it too (it honours only the spec's parameters), so without the
    client's own check another supplier's credit note would be counted as ours.
    """
    ours = amazon(uk)
    theirs = next(c.contact_id for c in uk.find_contacts() if c.contact_id != ours)
    created = put_batch(
        uk,
        "CreditNotes",
        [_credit_note(ours, "OURS-1"), _credit_note(theirs, "THEIRS-1")],
        "two-suppliers",
    )
    assert created.all_ok, [e.errors for e in created.elements]
    numbers = {doc.number for doc in uk.find_documents("CreditNotes", contact_ids=[ours])}
    assert "OURS-1" in numbers
    assert "THEIRS-1" not in numbers


def test_a_batch_is_looked_up_in_one_listing_and_no_bill_matches_twice(
    uk: XeroAccounting,
) -> None:
    """Recovery past the key lifetime lists a batch's bills in one request (``ContactIDs`` +
    ``InvoiceNumbers`` + a date range on ``GET /Invoices``) and matches each element here as
    the per-document lookup does; two identical elements never take the same Xero bill, and a
    number with a comma (which ``InvoiceNumbers`` cannot carry) is still found."""
    contact = amazon(uk)
    twin = bill(contact, taxed(), InvoiceNumber="TWIN-1")
    comma = bill(contact, taxed("12.00"), InvoiceNumber="A,B")
    created = put_batch(uk, "Invoices", [twin, comma], "bulk-lookup")
    assert created.all_ok, [e.errors for e in created.elements]
    never_sent = bill(contact, taxed("13.00"), InvoiceNumber="NEVER-SENT")
    books = XeroBooksClient(uk)
    found = books.find_many(Endpoint.INVOICES, [twin, twin, comma, never_sent])
    assert found == [created.elements[0].xero_id, None, created.elements[1].xero_id, None]


def test_credit_notes_of_a_batch_are_matched_one_to_one(uk: XeroAccounting) -> None:
    contact = amazon(uk)
    first, second = _credit_note(contact, "CN-BULK-1"), _credit_note(contact, "CN-BULK-2")
    created = put_batch(uk, "CreditNotes", [first, second], "bulk-notes")
    assert created.all_ok, [e.errors for e in created.elements]
    books = XeroBooksClient(uk)
    found = books.find_many(Endpoint.CREDIT_NOTES, [second, first, _credit_note(contact, "CN-3")])
    assert found == [created.elements[1].xero_id, created.elements[0].xero_id, None]


def test_payments_of_a_batch_come_from_one_listing_each_matched_once(uk: XeroAccounting) -> None:
    """Payments are listed once over the batch's dates (``GET /Payments`` with a ``where``)
    and matched by their bill and amount, as the per-payment lookup does; a second element
    asking for the same payment finds nothing rather than the same one again."""
    contact = amazon(uk)
    bills = put_batch(
        uk,
        "Invoices",
        [
            bill(contact, taxed(), InvoiceNumber="PAY-BULK-1"),
            bill(contact, taxed(), InvoiceNumber="PAY-BULK-2"),
        ],
        "bulk-pay-bills",
    )
    first, second = (element.xero_id or "" for element in bills.elements)
    on_first = payment(first, "5.00")
    on_second = payment(second, "7.00", Date="2026-07-03")
    paid = put_batch(uk, "Payments", [on_first, on_second], "bulk-pay")
    assert paid.all_ok, [e.errors for e in paid.elements]
    books = XeroBooksClient(uk)
    found = books.find_many(
        Endpoint.PAYMENTS, [on_second, on_first, on_first, payment(first, "6.00")]
    )
    ids = [element.xero_id for element in paid.elements]
    assert found == [ids[1], ids[0], None, None]
    assert found[:2] == [
        books.find(Endpoint.PAYMENTS, on_second),
        books.find(Endpoint.PAYMENTS, on_first),
    ]
