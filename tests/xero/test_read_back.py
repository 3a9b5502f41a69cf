"""Reading abxero's documents back from Xero for the reconciliation check: a ledger document
the period's listings do not show is fetched by id (bills by ``IDs``, the rest one GET each),
one Xero does not know is simply absent, and a document on the contact that no ledger row
names is reported as unknown."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from abxero.sync.xero_readback import read_back
from abxero.xero import AccountingTransport, Pacer, XeroAccounting
from abxero_sim.clock import ManualClock
from tests.xero.conftest import BASE
from tests.xero.xero_support import bill, line, payment, put_batch


def amazon(api: XeroAccounting) -> str:
    return next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")


def _spend(contact: str) -> dict[str, Any]:
    return {
        "Type": "SPEND",
        "Contact": {"ContactID": contact},
        "BankAccount": {"Code": "092"},
        "Date": "2026-07-01",
        "Reference": "X 0071",
        "LineAmountTypes": "NoTax",
        "LineItems": [line("24.99", account="429", tax="NONE")],
    }


def test_documents_outside_the_listing_are_fetched_by_id(uk: XeroAccounting) -> None:
    contact = amazon(uk)
    created = put_batch(uk, "Invoices", [bill(contact, line("10.00", tax="NONE"))], "rb-bill")
    bill_id = created.elements[0].xero_id
    assert bill_id
    paid = put_batch(uk, "Payments", [payment(bill_id, "10.00")], "rb-pay")
    spent = put_batch(uk, "BankTransactions", [_spend(contact)], "rb-spend")
    assert spent.all_ok, spent.elements[0].errors
    payment_id, spend_id = paid.elements[0].xero_id, spent.elements[0].xero_id
    assert payment_id
    assert spend_id
    unknown = str(uuid.uuid4())
    wanted = {bill_id: "bill", payment_id: "payment", spend_id: "spend", unknown: "credit_note"}
    found = read_back(uk, contact, date(2025, 1, 1), date(2025, 1, 31), wanted, set(wanted))
    assert set(found.by_id) == {bill_id.lower(), payment_id.lower(), spend_id.lower()}
    assert found.by_id[bill_id.lower()].total == Decimal("10.00")
    assert found.by_id[bill_id.lower()].status == "PAID"
    assert found.by_id[payment_id.lower()].kind == "Payments"
    assert found.by_id[spend_id.lower()].total == Decimal("24.99")
    assert found.unknown == []


def test_a_document_on_the_contact_no_ledger_row_names_is_unknown(uk: XeroAccounting) -> None:
    contact = amazon(uk)
    created = put_batch(uk, "Invoices", [bill(contact, line("7.00", tax="NONE"))], "rb-extra")
    extra_id = created.elements[0].xero_id
    assert extra_id
    found = read_back(uk, contact, date(2026, 7, 1), date(2026, 7, 1), {}, set())
    assert [(d.xero_id, d.role, d.total) for d in found.unknown] == [
        (extra_id, "bill", Decimal("7.00"))
    ]
    again = read_back(uk, contact, date(2026, 7, 1), date(2026, 7, 1), {}, {extra_id})
    assert again.unknown == []


def test_reading_back_is_paced_like_posting(
    http: httpx.Client, sim_token: dict[str, Any], clock: ManualClock, uk: XeroAccounting
) -> None:
    """Past the tenant's per-minute budget the read-back waits its turn: it goes through the
    same ``Pacer`` posting uses (one per process), so the two never exceed Xero's limit."""
    contact = amazon(uk)
    ids = []
    for index in range(4):
        created = put_batch(uk, "BankTransactions", [_spend(contact)], f"rb-paced-{index}")
        ids.append(str(created.elements[0].xero_id))
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    pacer = Pacer(per_minute=3, monotonic=clock.monotonic, sleep=wait)
    access = sim_token["access_token"]
    transport = AccountingTransport(
        http,
        f"{BASE}/api.xro/2.0",
        sim_token["tenants"]["uk"],
        lambda: access,
        pacer=pacer,
        sleep=wait,
        now=clock.now,
    )
    found = read_back(
        XeroAccounting(transport),
        contact,
        date(2025, 1, 1),
        date(2025, 1, 1),
        dict.fromkeys(ids, "spend"),
        set(ids),
    )
    assert {i.lower() for i in ids} <= set(found.by_id)
    assert waits  # four listings and four lookups at three a minute had to wait
