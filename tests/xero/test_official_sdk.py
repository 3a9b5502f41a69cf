"""Xero's official Python SDK (xero-python, a test dependency) against the simulator.

The simulator is served on a loopback port; the SDK's ``AccountingApi`` takes the API base URL
as ``base_url`` (Xero's own SDK tests point it at a mock the same way, see
shared/docs/xero-api.md §8.4), and its token URLs are class attributes of ``TokenApi``, moved
here to the simulator so the SDK's own refresh flow runs too. What the SDK sends is what a
real integration sends: read-only ``HasAttachments: false``, ``/Date(ms)/`` dates, floats,
``summarizeErrors=False`` capitalised. The simulator must accept all of it without a spec
rejection, through a bill, its payment, a credit note, a refund and an allocation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from xero_python.accounting import Account as AccountRef
from xero_python.accounting import (
    AccountingApi,
    Allocation,
    Allocations,
    BankTransaction,
    BankTransactions,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    Payments,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException

from abxero.web.serving import ServedApp, served
from abxero_sim.xero import create_app

CLIENT_ID, CLIENT_SECRET = "abxero-sim-client", "abxero-sim-secret"


@pytest.fixture
def server() -> Iterator[ServedApp]:
    with served(create_app(seed=11)) as running:
        yield running


@pytest.fixture
def sim(server: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def api(server: ServedApp, sim: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> AccountingApi:
    """The SDK, pointed at the simulator, holding an access token it must first refresh."""
    issued = sim.post("/_sim/token", json={}).json()
    store: dict[str, Any] = {
        "access_token": "expired",
        "refresh_token": issued["refresh_token"],
        "token_type": "Bearer",
        "expires_in": 1800,
        "expires_at": time.time() - 1,
        "scope": issued["scope"].split(),
    }
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{server.url}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{server.url}/connect/revocation")
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: dict(store),
        oauth2_token_saver=store.update,
    )
    return AccountingApi(client, base_url=f"{server.url}/api.xro/2.0")


@pytest.fixture
def tenant(sim: httpx.Client) -> str:
    tenant_id: str = sim.post("/_sim/token", json={}).json()["tenants"]["uk"]
    return tenant_id


def _amazon(api: AccountingApi, tenant: str) -> str:
    contacts = api.get_contacts(tenant, where='Name=="Amazon Business"').contacts
    contact_id: str = str(contacts[0].contact_id)
    return contact_id


def _line(unit: str, quantity: str = "1") -> LineItem:
    return LineItem(
        description="Printer paper A4 (ASIN B000000001)",
        quantity=float(quantity),
        unit_amount=float(unit),
        account_code="429",
        tax_type="INPUT2",
    )


def _bill(contact_id: str, number: str, *lines: LineItem) -> Invoice:
    return Invoice(
        type="ACCPAY",
        contact=Contact(contact_id=contact_id),
        date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
        invoice_number=number,
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        status="AUTHORISED",
        line_items=list(lines),
    )


def _credit_note(contact_id: str, number: str, unit: str) -> CreditNote:
    return CreditNote(
        type="ACCPAYCREDIT",
        contact=Contact(contact_id=contact_id),
        date=date(2026, 7, 3),
        credit_note_number=number,
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        status="AUTHORISED",
        line_items=[_line(unit)],
    )


def test_the_official_sdk_posts_a_bill_payment_credit_note_refund_and_allocation(
    api: AccountingApi, tenant: str, sim: httpx.Client
) -> None:
    contact_id = _amazon(api, tenant)
    bills = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _bill(contact_id, "AMZ-206-0000001", _line("3.3333", "3")),
                _bill(contact_id, "AMZ-206-0000002", _line("20.00")),
            ]
        ),
        summarize_errors=False,
        unitdp=4,
        idempotency_key="sdk-bills-1",
    ).invoices
    assert [b.has_errors for b in bills] == [False, False], [b.validation_errors for b in bills]
    first, second = bills
    assert Decimal(str(first.line_items[0].unit_amount)) == Decimal("3.3333")
    assert Decimal(str(first.total)) == Decimal("12.00")

    card = AccountRef(code="092")
    paid = api.create_payments(
        tenant,
        Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_id=first.invoice_id),
                    account=card,
                    date=date(2026, 7, 1),
                    amount=12.00,
                    reference="Amazon charge 1",
                )
            ]
        ),
        summarize_errors=False,
        idempotency_key="sdk-payment-1",
    ).payments
    assert paid[0].has_validation_errors in (None, False)

    notes = api.create_credit_notes(
        tenant,
        CreditNotes(
            credit_notes=[
                _credit_note(contact_id, "AMZ-R-1", "5.00"),
                _credit_note(contact_id, "AMZ-R-2", "4.00"),
            ]
        ),
        summarize_errors=False,
        unitdp=4,
        idempotency_key="sdk-notes-1",
    ).credit_notes
    assert [n.has_errors for n in notes] == [False, False]
    refunded_note, allocated_note = notes

    refund = api.create_payments(
        tenant,
        Payments(
            payments=[
                Payment(
                    credit_note=CreditNote(credit_note_id=refunded_note.credit_note_id),
                    account=card,
                    date=date(2026, 7, 4),
                    amount=6.00,
                    reference="Amazon refund 1",
                )
            ]
        ),
        summarize_errors=False,
        idempotency_key="sdk-refund-1",
    ).payments
    assert refund[0].has_validation_errors in (None, False)

    allocation = api.create_credit_note_allocation(
        tenant,
        allocated_note.credit_note_id,
        Allocations(
            allocations=[
                Allocation(
                    invoice=Invoice(invoice_id=second.invoice_id),
                    amount=4.80,
                    date=date(2026, 7, 4),
                )
            ]
        ),
        summarize_errors=False,
        idempotency_key="sdk-allocation-1",
    ).allocations
    assert Decimal(str(allocation[0].amount)) == Decimal("4.80")

    remaining = api.get_invoice(tenant, second.invoice_id).invoices[0]
    assert Decimal(str(remaining.amount_due)) == Decimal("19.20")
    assert api.get_invoice(tenant, first.invoice_id).invoices[0].status == "PAID"
    assert api.get_credit_note(tenant, refunded_note.credit_note_id).credit_notes[0].status == (
        "PAID"
    )

    stats = sim.get("/_sim/stats").json()
    assert stats["spec_rejections"] == []
    assert "Invoices[].HasAttachments" in stats["ignored_read_only"]
    written = [r["query"] for r in stats["recent_requests"] if r["endpoint"] == "PUT /Invoices"]
    assert written == [[["summarizeErrors", "False"], ["unitdp", "4"]]]


def test_the_sdk_sees_xeros_refusal_of_a_bank_transaction_tax_override(
    api: AccountingApi, tenant: str
) -> None:
    """xero-node issue #768, through the Python SDK: the spend-money line's TaxAmount 52.23
    is refused because Xero computes 52.28."""
    line = _line("261.40")
    line.tax_amount = 52.23
    spend = BankTransaction(
        type="SPEND",
        contact=Contact(contact_id=_amazon(api, tenant)),
        bank_account=AccountRef(code="092"),
        date=date(2026, 7, 1),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        line_items=[line],
    )
    with pytest.raises(ApiException) as refused:
        api.create_bank_transactions(tenant, BankTransactions(bank_transactions=[spend]))
    assert refused.value.status == 400
    assert "Tax amount 52.23 is incorrect for INPUT2 tax type, should be 52.28" in str(
        refused.value.body
    )
