"""The Accounting API client against the simulator: reads, batches, Xero's rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from abxero.xero import ValidationFailedError, XeroAccounting
from tests.xero.xero_support import allocations_path, bill, line, payment, put_batch, state


def amazon(api: XeroAccounting) -> str:
    return next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")


def sim_request(
    http: httpx.Client, sim_token: dict[str, Any], key: str, method: str, path: str, **more: Any
) -> httpx.Response:
    """A call abxero itself never makes, sent straight to the simulated Accounting API."""
    headers = {
        "Authorization": f"Bearer {sim_token['access_token']}",
        "xero-tenant-id": sim_token["tenants"][key],
    }
    return http.request(method, f"/api.xro/2.0/{path}", headers=headers, **more)


def test_org_context_of_the_uk_and_us_demo_companies(
    http: httpx.Client, sim_token: dict[str, Any], uk: XeroAccounting, us: XeroAccounting
) -> None:
    context = uk.org_context()
    assert context.organisation.base_currency == "GBP"
    assert context.organisation.timezone == "GMTSTANDARDTIME"
    assert context.organisation.short_code
    assert context.organisation.period_lock_date
    codes = {a.code: a for a in context.accounts}
    assert codes["092"].bank_account_type == "CREDITCARD"
    assert codes["092"].can_receive_payments
    assert codes["800"].system_account == "CREDITORS"
    assert {"INPUT2", "RRINPUT", "ZERORATEDINPUT", "EXEMPTINPUT", "NONE", "OUTPUT2"} <= {
        t.tax_type for t in context.tax_rates
    }
    assert {c.code for c in context.currencies} == {"GBP", "EUR", "USD"}
    assert [t.name for t in context.tracking_categories] == ["Department", "Region"]
    us_context = us.org_context()
    assert us_context.organisation.base_currency == "USD"
    actions = sim_request(http, sim_token, "us", "GET", "Organisation/Actions").json()["Actions"]
    assert {a["Name"]: a.get("Status") == "ALLOWED" for a in actions}["UseMulticurrency"] is False
    banks = [
        a for a in us_context.accounts if a.type == "BANK" and a.bank_account_type == "CREDITCARD"
    ]
    assert banks
    assert {t.tax_type for t in us_context.tax_rates} >= {"INPUT", "NONE"}


def test_where_filters_accounts(uk: XeroAccounting) -> None:
    banks = uk.accounts(where='Status=="ACTIVE" AND Type=="BANK"')
    assert banks
    assert all(a.type == "BANK" for a in banks)
    expensable = [t for t in uk.tax_rates() if t.can_apply_to_expenses]
    assert "OUTPUT2" not in {t.tax_type for t in expensable}


def test_contacts_get_create_and_unique_names(uk: XeroAccounting) -> None:
    contact_id = amazon(uk)
    found = uk.get_contact(contact_id)
    assert found is not None
    assert not found.is_archived
    assert uk.get_contact("6a1b9f0c-0000-4000-8000-000000000000") is None
    created = uk.create_contacts([{"Name": "Amazon Business EU"}], "contact-1")
    assert created.all_ok
    assert created.elements[0].xero_id
    duplicate = uk.create_contacts([{"Name": "Amazon Business"}], "contact-2")
    assert "must be unique" in duplicate.elements[0].errors[0]
    archived = uk.find_contacts(include_archived=True)
    assert any(c.is_archived for c in archived)


def test_bill_batch_reports_each_element(uk: XeroAccounting) -> None:
    contact = amazon(uk)
    archived_contact = next(
        c.contact_id for c in uk.find_contacts(include_archived=True) if c.is_archived
    )
    batch = [
        bill(
            contact,
            line("7.49", "2"),
            line("3.33", tax="RRINPUT", Tracking=[{"Name": "Region", "Option": "London"}]),
        ),
        bill(archived_contact),
        bill(contact, line(account="455")),
        bill(contact, line(account="200")),
        bill(contact, line(tax="OUTPUT2")),
        bill(contact, Date="2025-06-30"),
        bill(contact, CurrencyCode="JPY"),
        bill(contact, line(account="999")),
    ]
    result = put_batch(uk, "Invoices", batch, "bills-1")
    first = result.elements[0]
    assert first.ok
    assert first.xero_id
    assert first.data["SubTotal"] == Decimal("18.31")
    assert first.data["TotalTax"] == Decimal("3.17")  # per line: 3.00 + 0.17
    assert first.data["Total"] == Decimal("21.48")
    messages = [e.errors[0] for e in result.elements[1:]]
    assert messages[0].startswith(
        "The contact with the specified contact details has been archived"
    )
    assert (
        messages[1] == "Account code '455' has been archived, or has been deleted. "
        "Each line item must reference a valid account."
    )
    assert messages[2] == "The TaxType code 'INPUT2' cannot be used with account code '200'"
    assert "OUTPUT2" in messages[3]
    assert "purchase" in messages[3]
    assert (
        messages[4]
        == "The document date cannot be before the period lock date, currently set at 30-Jun-2025"
    )
    assert messages[5] == "Organisation is not subscribed to currency JPY"
    assert messages[6] == "Account code '999' is not a valid code for this document."
    assert len(result.succeeded) == 1
    assert len(result.failed) == 7


def test_without_summarize_errors_the_rollback_knob_refuses_the_whole_batch(
    http: httpx.Client, sim_token: dict[str, Any], uk: XeroAccounting
) -> None:
    """Opt-in rollback; Xero itself keeps the valid elements (test_simulator_realism.py)."""
    http.post("/_sim/behaviour", json={"rollback_failed_batches": True})
    contact = amazon(uk)
    headers = {
        "Authorization": f"Bearer {sim_token['access_token']}",
        "xero-tenant-id": sim_token["tenants"]["uk"],
    }
    body = {
        "Invoices": [
            {
                "Type": "ACCPAY",
                "Contact": {"ContactID": contact},
                "Date": "2026-07-01",
                "LineItems": [
                    {"Description": "ok", "Quantity": 1, "UnitAmount": 5, "AccountCode": "429"}
                ],
            },
            {
                "Type": "ACCPAY",
                "Contact": {"ContactID": contact},
                "Date": "2026-07-01",
                "LineItems": [
                    {"Description": "bad", "Quantity": 1, "UnitAmount": 5, "AccountCode": "999"}
                ],
            },
        ]
    }
    refused = http.put("/api.xro/2.0/Invoices", headers=headers, json=body)
    assert refused.status_code == 400
    assert refused.json()["Type"] == "ValidationException"
    assert len(refused.json()["Elements"]) == 1
    assert state(http, "uk")["invoices"] == []


def test_inclusive_and_notax_lines(uk: XeroAccounting, us: XeroAccounting) -> None:
    inclusive = put_batch(
        uk, "Invoices", [bill(amazon(uk), line("12.00"), LineAmountTypes="Inclusive")], "inc"
    )
    assert inclusive.elements[0].data["TotalTax"] == Decimal("2.00")
    assert inclusive.elements[0].data["Total"] == Decimal("12.00")
    no_tax = put_batch(
        us,
        "Invoices",
        [
            bill(
                amazon(us),
                line("19.99", account="648", tax="NONE"),
                CurrencyCode="USD",
                LineAmountTypes="NoTax",
            )
        ],
        "us",
    )
    assert no_tax.elements[0].data["Total"] == Decimal("19.99")


def test_payments_follow_xero_rules(http: httpx.Client, uk: XeroAccounting) -> None:
    contact = amazon(uk)
    created = put_batch(uk, "Invoices", [bill(contact), bill(contact, Status="DRAFT")], "two-bills")
    approved, draft = (e.xero_id for e in created.elements)
    assert approved
    assert draft
    result = put_batch(
        uk,
        "Payments",
        [
            payment(approved, "12.01"),
            payment(approved, "5.00", account_code="429"),
            payment(draft, "1.00"),
            payment(approved, "12.00"),
        ],
        "pay-1",
    )
    errors = [e.errors for e in result.elements]
    assert errors[0] == ("Payment amount exceeds the amount outstanding on this invoice",)
    assert errors[1] == ("Account type is invalid for making a payment to/from",)
    assert errors[2] == ("Invoice not of valid status for creating payment",)
    assert result.elements[3].ok
    [paid] = uk.find_documents(
        "Invoices", numbers=["AMZ-206-1234567"], contact_ids=[contact], statuses=["PAID"]
    )
    assert paid.id == approved
    assert paid.amount_due == Decimal("0.00")
    [found] = uk.find_payments(invoice_id=approved)
    assert found.amount == Decimal("12.00")
    assert found.payment_type == "ACCPAYPAYMENT"
    assert Decimal(str(state(http, "uk")["trial_balance"]["total"])) == 0


def test_credit_note_allocation_and_refund(http: httpx.Client, uk: XeroAccounting) -> None:
    contact = amazon(uk)
    bill_id = put_batch(uk, "Invoices", [bill(contact, line("50.00"))], "b").elements[0].xero_id
    note = {
        "Type": "ACCPAYCREDIT",
        "Contact": {"ContactID": contact},
        "Date": "2026-07-02",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [line("10.00")],
    }
    notes = put_batch(uk, "CreditNotes", [note, note], "cn")
    first, second = (e.xero_id for e in notes.elements)
    assert first
    assert second
    assert notes.elements[0].data["RemainingCredit"] == Decimal("12.00")
    too_much = put_batch(
        uk,
        allocations_path(first),
        [{"Invoice": {"InvoiceID": bill_id}, "Amount": Decimal("12.01"), "Date": "2026-07-02"}],
        "al-0",
    )
    assert too_much.elements[0].errors == (
        "The amount allocated cannot be more than the remaining credit",
    )
    allocated = put_batch(
        uk,
        allocations_path(first),
        [{"Invoice": {"InvoiceID": bill_id}, "Amount": Decimal("12.00"), "Date": "2026-07-02"}],
        "al-1",
    )
    assert allocated.all_ok
    assert uk.find_documents("Invoices", contact_ids=[contact])[0].amount_due == Decimal("48.00")
    refund = put_batch(
        uk,
        "Payments",
        [
            {
                "CreditNote": {"CreditNoteID": second},
                "Account": {"Code": "092"},
                "Date": "2026-07-03",
                "Amount": Decimal("12.00"),
                "Reference": "refund",
            }
        ],
        "refund",
    )
    assert refund.all_ok
    assert refund.elements[0].data["PaymentType"] == "APCREDITPAYMENT"
    paid_notes = uk.find_documents("CreditNotes", statuses=["PAID"])
    assert {n.id for n in paid_notes} == {first, second}
    balance = state(http, "uk")["trial_balance"]
    assert Decimal(str(balance["total"])) == 0
    assert Decimal(str(balance["accounts"]["092"])) == Decimal("12.00")


def test_spend_money_on_the_card(http: httpx.Client, us: XeroAccounting) -> None:
    spend = {
        "Type": "SPEND",
        "Contact": {"ContactID": amazon(us)},
        "BankAccount": {"Code": "092"},
        "Date": "2026-07-01",
        "Reference": "113-1234567",
        "LineAmountTypes": "NoTax",
        "LineItems": [line("24.99", account="652", tax="NONE")],
    }
    bad = dict(spend, BankAccount={"Code": "648"})
    result = put_batch(us, "BankTransactions", [spend, bad], "spend")
    assert result.elements[0].ok
    assert result.elements[0].data["Total"] == Decimal("24.99")
    assert result.elements[1].errors
    [found] = us.find_documents("BankTransactions", where='Type=="SPEND"')
    assert found.total == Decimal("24.99")
    assert Decimal(str(state(http, "us")["trial_balance"]["accounts"]["092"])) == Decimal("-24.99")


def test_attachments_and_history(
    http: httpx.Client, sim_token: dict[str, Any], uk: XeroAccounting
) -> None:
    bill_id = put_batch(uk, "Invoices", [bill(amazon(uk))], "b").elements[0].xero_id
    assert bill_id
    attachment = uk.upload_attachment(
        "Invoices", bill_id, "invoice 1.pdf", b"%PDF-1.4 x", "application/pdf", "att-1"
    )
    assert attachment.file_name == "invoice 1.pdf"
    assert attachment.content_length == 10
    for number in range(2, 11):
        uk.upload_attachment(
            "Invoices", bill_id, f"f{number}.pdf", b"x", "application/pdf", f"att-{number}"
        )
    with pytest.raises(ValidationFailedError, match="maximum of 10"):
        uk.upload_attachment("Invoices", bill_id, "f11.pdf", b"x", "application/pdf", "att-11")
    note = {"HistoryRecords": [{"Details": "Posted by abxero for order 206-1234567"}]}
    history = f"Invoices/{bill_id}/History"
    sim_request(http, sim_token, "uk", "PUT", history, json=note).raise_for_status()
    records = sim_request(http, sim_token, "uk", "GET", history).json()["HistoryRecords"]
    notes = [record["Details"] for record in records]
    assert "Posted by abxero for order 206-1234567" in notes


def test_validation_exception_is_typed(uk: XeroAccounting) -> None:
    with pytest.raises(ValueError, match="1 to 50"):
        put_batch(uk, "Invoices", [bill(amazon(uk))] * 51, "too-many")
