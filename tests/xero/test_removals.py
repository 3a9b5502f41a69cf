"""Taking documents out of Xero as Xero allows it, through our client and the simulator:
payments deleted, bills voided or deleted by state, allocations removed, spend money deleted,
and what is reconciled refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from abxero.xero import ValidationFailedError, XeroAccounting
from abxero_sim.xero.removals import (
    RECONCILED_BANK_TRANSACTION,
    RECONCILED_DOCUMENT,
    RECONCILED_PAYMENT,
)
from tests.xero.xero_support import allocations_path, bill, line, payment, put_batch, state


def _amazon(api: XeroAccounting) -> str:
    return next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")


def _created(result: Any) -> str:
    element = result.elements[0]
    assert element.ok, element.errors
    return str(element.xero_id)


def _paid_bill(uk: XeroAccounting, number: str) -> tuple[str, str]:
    bill_id = _created(
        put_batch(uk, "Invoices", [bill(_amazon(uk), InvoiceNumber=number)], f"b-{number}")
    )
    payment_id = _created(put_batch(uk, "Payments", [payment(bill_id, "5.00")], f"p-{number}"))
    return bill_id, payment_id


def _reconcile(http: httpx.Client, **ids: list[str]) -> None:
    answer = http.post("/_sim/orgs/uk/reconcile", json=ids)
    assert answer.status_code == 200
    assert answer.json()["reconciled"] == sum(len(v) for v in ids.values())


def test_a_paid_bill_is_voided_once_its_payment_is_deleted(
    http: httpx.Client, uk: XeroAccounting
) -> None:
    bill_id, payment_id = _paid_bill(uk, "AMZ-1")
    with pytest.raises(ValidationFailedError) as refused:
        uk.update_status("Invoices", bill_id, {"InvoiceID": bill_id, "Status": "VOIDED"}, "v-0")
    assert "payment or credit note allocated" in str(refused.value.messages)
    uk.delete_payment(payment_id, "d-1")
    uk.delete_payment(payment_id, "d-1")  # the same key again: Xero's first answer, no error
    assert (uk.get_payment(payment_id) or {})["Status"] == "DELETED"
    uk.update_status("Invoices", bill_id, {"InvoiceID": bill_id, "Status": "VOIDED"}, "v-1")
    held = state(http, "uk")
    assert {i["InvoiceID"]: i["Status"] for i in held["invoices"]}[bill_id] == "VOIDED"
    assert Decimal(str(held["trial_balance"]["total"])) == 0
    assert held["trial_balance"]["accounts"] == {}


def test_a_draft_is_deleted_and_cannot_be_voided(uk: XeroAccounting) -> None:
    draft = bill(_amazon(uk), Status="DRAFT", InvoiceNumber="AMZ-2")
    bill_id = _created(put_batch(uk, "Invoices", [draft], "draft-1"))
    with pytest.raises(ValidationFailedError):
        uk.update_status("Invoices", bill_id, {"InvoiceID": bill_id, "Status": "VOIDED"}, "v-2")
    uk.update_status("Invoices", bill_id, {"InvoiceID": bill_id, "Status": "DELETED"}, "x-2")
    assert (uk.get_document("Invoices", bill_id) or {})["Status"] == "DELETED"


def test_a_reconciled_payment_is_never_deleted(http: httpx.Client, uk: XeroAccounting) -> None:
    bill_id, payment_id = _paid_bill(uk, "AMZ-3")
    _reconcile(http, payments=[payment_id])
    assert (uk.get_payment(payment_id) or {})["IsReconciled"] is True
    with pytest.raises(ValidationFailedError) as refused:
        uk.delete_payment(payment_id, "d-3")
    assert refused.value.messages == [RECONCILED_PAYMENT]
    assert (uk.get_payment(payment_id) or {})["Status"] == "AUTHORISED"
    assert (uk.get_document("Invoices", bill_id) or {})["AmountPaid"] == 5


def _spend(uk: XeroAccounting, reference: str) -> str:
    spend = {
        "Type": "SPEND",
        "Contact": {"ContactID": _amazon(uk)},
        "BankAccount": {"Code": "092"},
        "Date": "2026-07-01",
        "Reference": reference,
        "LineAmountTypes": "Inclusive",
        "LineItems": [line("12.00")],
    }
    return _created(put_batch(uk, "BankTransactions", [spend], f"s-{reference}"))


def test_spend_money_is_deleted_unless_reconciled(http: httpx.Client, uk: XeroAccounting) -> None:
    free, reconciled = _spend(uk, "AMZ-4"), _spend(uk, "AMZ-5")
    _reconcile(http, bank_transactions=[reconciled])
    for identifier, key in ((free, "x-4"), (reconciled, "x-5")):
        held = uk.get_document("BankTransactions", identifier) or {}
        body = {k: held[k] for k in ("Type", "Contact", "BankAccount", "LineItems")}
        body.update(BankTransactionID=identifier, Status="DELETED")
        if identifier == reconciled:
            with pytest.raises(ValidationFailedError) as refused:
                uk.update_status("BankTransactions", identifier, body, key)
            assert refused.value.messages == [RECONCILED_BANK_TRANSACTION]
        else:
            uk.update_status("BankTransactions", identifier, body, key)
    statuses = {t["BankTransactionID"]: t["Status"] for t in state(http, "uk")["bank_transactions"]}
    assert statuses == {free: "DELETED", reconciled: "AUTHORISED"}
    assert not http.get("/_sim/stats").json()["spec_rejections"]


def test_an_allocation_is_removed_and_gives_the_credit_back(
    http: httpx.Client, uk: XeroAccounting
) -> None:
    contact = _amazon(uk)
    bill_id = _created(put_batch(uk, "Invoices", [bill(contact, InvoiceNumber="AMZ-6")], "b-6"))
    note = bill(contact, line("4.00"), Type="ACCPAYCREDIT", InvoiceNumber=None)
    note_id = _created(put_batch(uk, "CreditNotes", [note], "c-6"))
    allocation = {
        "Invoice": {"InvoiceID": bill_id},
        "Amount": Decimal("4.80"),
        "Date": "2026-07-02",
    }
    allocation_id = _created(put_batch(uk, allocations_path(note_id), [allocation], "a-6"))
    with pytest.raises(ValidationFailedError):
        uk.update_status("CreditNotes", note_id, {"CreditNoteID": note_id, "Status": "VOIDED"}, "v")
    assert uk.delete_allocation(note_id, allocation_id) is True
    assert uk.delete_allocation(note_id, allocation_id) is False  # gone: Xero answers 404
    held_bill = uk.get_document("Invoices", bill_id) or {}
    held_note = uk.get_document("CreditNotes", note_id) or {}
    assert Decimal(str(held_bill["AmountDue"])) == Decimal(str(held_bill["Total"]))
    assert Decimal(str(held_note["RemainingCredit"])) == Decimal(str(held_note["Total"]))
    assert held_note["Allocations"] == []
    uk.update_status("CreditNotes", note_id, {"CreditNoteID": note_id, "Status": "VOIDED"}, "v-6")
    uk.update_status("Invoices", bill_id, {"InvoiceID": bill_id, "Status": "VOIDED"}, "v-7")
    assert state(http, "uk")["allocations"] == []


def test_an_allocation_to_a_bill_with_a_reconciled_payment_stays(
    http: httpx.Client, uk: XeroAccounting
) -> None:
    contact = _amazon(uk)
    bill_id = _created(put_batch(uk, "Invoices", [bill(contact, InvoiceNumber="AMZ-8")], "b-8"))
    note_id = _created(
        put_batch(uk, "CreditNotes", [bill(contact, line("4.00"), Type="ACCPAYCREDIT")], "c-8")
    )
    allocation = {
        "Invoice": {"InvoiceID": bill_id},
        "Amount": Decimal("4.80"),
        "Date": "2026-07-02",
    }
    allocation_id = _created(put_batch(uk, allocations_path(note_id), [allocation], "a-8"))
    payment_id = _created(put_batch(uk, "Payments", [payment(bill_id, "7.20")], "p-8"))
    _reconcile(http, payments=[payment_id])
    response = http.delete(
        f"/api.xro/2.0/CreditNotes/{note_id}/Allocations/{allocation_id}",
        headers={
            "Authorization": f"Bearer {_token(http)}",
            "xero-tenant-id": state(http, "uk")["tenant_id"],
        },
    )
    assert response.status_code == 400
    assert RECONCILED_DOCUMENT in response.text


def _token(http: httpx.Client) -> str:
    return str(http.post("/_sim/token", json={}).json()["access_token"])
