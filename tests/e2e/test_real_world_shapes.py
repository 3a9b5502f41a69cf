"""A 90-day import of the shapes real Amazon Business accounts send loses nothing.

The Amazon simulator is switched to ``Shapes.all_on()`` (refunds sent positive, VAT-inclusive UK
principal, authorised amounts, two instruments sharing a shipment's lines, null/empty/offset
fields, records without lines; sources in ``abxero_sim.amazon.shapes``) and to the intake
knobs in ``INTAKE_KNOBS``. Then:

* no record that carries an id, a type, an amount and a currency is quarantined;
* per payment instrument, the total of Amazon's feed (read straight from getTransactions,
  refunds negative whatever sign Amazon used) equals, to the cent, the total of the documents
  Xero holds on the Amazon Business contact.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from abxero.domain import jsontext
from abxero.store.models import XeroConnection
from abxero_sim.amazon import Shapes
from tests.e2e.harness import MAIN_ROLES, Harness
from tests.e2e.shape_census import DETECTORS, reason_kind, shapes_seen

pytestmark = pytest.mark.slow

BUSINESS = {"US": "us-acme", "UK": "uk-harbour"}
# The intake knobs that change how records reach us, on together with the shapes: follow-up
# pages must carry their window, small pages, unknown invoice lookups refused with 400, and US
# Pay-by-Invoice charges without an invoice number (the number comes from the invoice details).
INTAKE_KNOBS = {
    "page_token_form": "with_window",
    "page_size": 20,
    "strict_invoice_lookup": True,
    "pbi_invoice_numbers": False,
}
TRANSACTIONS = "/reconciliation/2021-01-08/transactions"
CREDITS = {"credit_note", "receive"}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def amazon_feed(harness: Harness, business_id: str, start: datetime, end: datetime) -> list[Any]:
    """Every record getTransactions returns for ``[start, end)``, following the page tokens."""
    token = harness.amazon_admin("POST", "/_sim/token", {"business_id": business_id})
    headers = {"x-amz-access-token": token["access_token"], "accept": "application/json"}
    params: dict[str, str] = {"feedStartDate": _stamp(start), "feedEndDate": _stamp(end)}
    records: list[Any] = []
    with httpx.Client(base_url=harness.world.amazon_url, headers=headers, timeout=30) as http:
        while True:
            response = http.get(TRANSACTIONS, params=params)
            response.raise_for_status()
            body = response.json()
            records += body["transactions"]
            if not body.get("nextPageToken"):
                return records
            params = {**params, "nextPageToken": body["nextPageToken"]}


def books_amount(record: Any) -> Decimal:
    """A record's amount as the books see it: refunds negative, whichever sign Amazon sent."""
    amount = Decimal(str(record["amount"]["amount"]))
    return -abs(amount) if record["transactionType"] in {"REFUND", "OVERREFUND"} else amount


def instrument_key(record: Any) -> str:
    kind = (record.get("paymentInstrumentType") or "Unknown instrument").strip()
    last4 = (record.get("paymentInstrumentLast4Digits") or "").strip()
    return f"{kind}/{last4}" if last4 else kind


def readable(record: Any) -> bool:
    """Whether a record carries an id, a type, an amount and a currency."""
    try:
        money = record["amount"]
        Decimal(str(money["amount"]))
        return bool(record["transactionId"] and record["transactionType"] and money["currencyCode"])
    except (KeyError, TypeError, ArithmeticError, ValueError):
        return False


def feed_per_instrument(records: list[Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        totals[instrument_key(record)] += books_amount(record)
    return dict(totals)


def xero_per_instrument(harness: Harness, region: str) -> tuple[dict[str, Decimal], list[str]]:
    """Signed totals of the documents Xero holds on our contact, by the source's instrument."""
    state = harness.organisation_state(region)
    with harness.runtime.sessions() as session:
        contact = session.get_one(XeroConnection, harness.connections[region]).contact_id
    in_xero = {
        doc.get("InvoiceID") or doc.get("CreditNoteID") or doc.get("BankTransactionID"): doc
        for kind in ("invoices", "credit_notes", "bank_transactions")
        for doc in state[kind]
        if doc.get("Contact", {}).get("ContactID") == contact
        and doc["Status"] not in {"DELETED", "VOIDED"}
    }
    sources = {source.transaction_id: source for source in harness.sources(region)}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    ours = set()
    for document in harness.documents(region):
        if document.role not in MAIN_ROLES or document.xero_id not in in_xero:
            continue
        ours.add(document.xero_id)
        record = jsontext.loads(sources[document.transaction_id].raw)
        sign = -1 if document.role in CREDITS else 1
        totals[instrument_key(record)] += sign * Decimal(str(in_xero[document.xero_id]["Total"]))
    return dict(totals), sorted(set(in_xero) - ours)


@pytest.mark.parametrize("region", ["US", "UK"])
def test_every_real_world_shape_lands_in_xero_to_the_cent(harness: Harness, region: str) -> None:
    harness.amazon_admin("POST", "/_sim/shapes", Shapes.all_on().as_json())
    harness.amazon_admin("POST", "/_sim/faults", INTAKE_KNOBS)
    end = harness.runtime.now().replace(microsecond=0)
    start = end - timedelta(days=90)
    engine = harness.runtime.engine_for(harness.connections[region])
    engine.import_range(start, end)
    harness.map_and_finish(region)
    report = engine.post_pending()

    harness.amazon_admin("POST", "/_sim/faults", {"rate_limits": False})
    feed = amazon_feed(harness, BUSINESS[region], start, end)
    expected = set(DETECTORS) - ({"vat_inclusive"} if region == "US" else set())
    assert set(shapes_seen(feed)) >= expected  # the import really met every shape

    lost = Counter(
        reason_kind(source.reason)
        for source in harness.sources(region)
        if source.status == "quarantined" and readable(jsontext.loads(source.raw))
    )
    xero, unknown = xero_per_instrument(harness, region)
    amazon = feed_per_instrument(feed)
    problems = {
        "run error": report.error,
        "quarantined with id, type, amount and currency (by reason)": dict(lost),
        "documents in Xero the ledger does not know": unknown,
        "per instrument, Amazon's feed vs Xero": {
            key: (str(amazon.get(key, Decimal(0))), str(xero.get(key, Decimal(0))))
            for key in sorted(set(amazon) | set(xero))
            if amazon.get(key, Decimal(0)) != xero.get(key, Decimal(0))
        },
    }
    failing = {name: value for name, value in problems.items() if value}
    assert not failing, json.dumps(failing, indent=1, sort_keys=True)
