"""Test helpers: simulator addresses, state, and planner-style payloads (Decimal money)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from abxero.domain.plan import Endpoint
from abxero.sync.batches import batch_request
from abxero.xero import BatchResult, XeroAccounting

BASE = "http://xero.test"
CLIENT_ID, CLIENT_SECRET = "abxero-sim-client", "abxero-sim-secret"
REDIRECT = "http://localhost:8000/xero/callback"


def state(http: httpx.Client, key: str) -> dict[str, Any]:
    """The simulator's view of one organisation."""
    orgs = http.get("/_sim/state").json()["organisations"]
    found: dict[str, Any] = next(o for o in orgs if o["key"] == key)
    return found


def put_batch(
    api: XeroAccounting, path: str, items: Sequence[Mapping[str, Any]], idempotency_key: str
) -> BatchResult:
    """PUT ``items`` to ``path`` the way the engine does: the body and query a stored batch is
    given (``sync.batches.batch_request``), sent by ``send_stored_batch`` under the key.

    ``path`` is ``Invoices``, ``CreditNotes``, ``BankTransactions``, ``Payments`` or
    ``CreditNotes/{id}/Allocations``.
    """
    endpoint = Endpoint.ALLOCATIONS if path.endswith("/Allocations") else Endpoint(path)
    body, query = batch_request(endpoint, path, items)
    return api.send_stored_batch(path, body.encode(), idempotency_key, query)


def allocations_path(credit_note_id: str) -> str:
    return f"CreditNotes/{credit_note_id}/Allocations"


def bill(contact_id: str, *lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "Type": "ACCPAY",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-07-01",
        "DueDate": "2026-07-31",
        "InvoiceNumber": "AMZ-206-1234567",
        "Url": "https://www.amazon.co.uk/gp/your-account/order-details?orderID=206-1234567",
        "CurrencyCode": "GBP",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": list(lines) or [line()],
    }
    document.update(fields)
    return document


def line(
    amount: str = "10.00",
    quantity: str = "1",
    account: str = "429",
    tax: str = "INPUT2",
    **more: Any,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Description": "USB-C cable",
        "Quantity": Decimal(quantity),
        "UnitAmount": Decimal(amount),
        "AccountCode": account,
        "TaxType": tax,
    }
    item.update(more)
    return item


def payment(invoice_id: str, amount: str, account_code: str = "092", **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": account_code},
        "Date": "2026-07-01",
        "Amount": Decimal(amount),
        "Reference": "Amazon charge 1234",
    }
    body.update(more)
    return body


ApiFactory = Callable[..., XeroAccounting]
"""Builds an Accounting client for a seeded organisation (the ``make_api`` fixture)."""
