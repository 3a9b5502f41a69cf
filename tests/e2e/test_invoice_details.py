"""Invoice numbers, due dates and consolidated invoices from Amazon's invoice and payment
details, stored beside the raw transactions (which stay as Amazon sent them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.store.db import transaction
from abxero.store.models import Event, InvoiceDetail
from abxero.sync.ledger import content_hash
from tests.e2e.harness import Harness

pytestmark = pytest.mark.slow


def _import(harness: Harness, region: str, **faults: Any) -> None:
    harness.amazon_admin("POST", "/_sim/faults", {"rate_limits": False, **faults})
    end = harness.runtime.now()
    harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=30), end
    )
    harness.map_and_finish(region)


def _post(harness: Harness, region: str) -> None:
    report = harness.runtime.engine_for(harness.connections[region]).post_pending()
    assert report.error == ""


def _details(harness: Harness, region: str) -> dict[str, InvoiceDetail]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(
            select(InvoiceDetail).where(
                InvoiceDetail.xero_connection_id == harness.connections[region]
            )
        )
        return {row.transaction_id: row for row in rows}


def _pay_by_invoice_bills(harness: Harness, region: str) -> dict[str, dict[str, Any]]:
    """Xero's copy of each posted Pay-by-Invoice bill, by Amazon transaction id."""
    sources = {s.transaction_id: s for s in harness.sources(region)}
    invoices = {i["InvoiceID"]: i for i in harness.organisation_state(region)["invoices"]}
    return {
        d.transaction_id: invoices[d.xero_id]
        for d in harness.documents(region)
        if d.role == "bill"
        and d.status == "posted"
        and "invoice" in sources[d.transaction_id].instrument_key.lower()
    }


def _generated_numbers(harness: Harness) -> dict[str, str]:
    """transactionId -> invoice number, as the simulator generated them (with numbers)."""
    listing = harness.amazon_admin("GET", "/_sim/transactions?business_id=us-acme&count=1000")
    return {
        r["transactionId"]: r["invoiceNumber"]
        for r in listing["transactions"]
        if "invoiceNumber" in r
    }


def test_us_pay_by_invoice_bills_get_amazons_invoice_number_without_touching_the_raw_record(
    harness: Harness,
) -> None:
    """Before: a US Pay-by-Invoice charge sent without ``invoiceNumber`` was billed as
    '<order id>-<transaction id>' although getInvoiceDetailsByOrderLineItems knew the number."""
    _import(harness, "US", pbi_invoice_numbers=False)
    raw_before = {s.transaction_id: (s.raw, s.content_hash) for s in harness.sources("US")}
    _post(harness, "US")
    bills = _pay_by_invoice_bills(harness, "US")
    assert bills
    generated = _generated_numbers(harness)
    assert all(
        bill["InvoiceNumber"].endswith(f" / {generated[tid]}") for tid, bill in bills.items()
    )
    for source in harness.sources("US"):
        assert (source.raw, source.content_hash) == raw_before[source.transaction_id]
        assert "invoiceNumber" not in jsontext.loads(source.raw) or tid_not_pbi(source)
        assert content_hash(jsontext.loads(source.raw)) == source.content_hash


def _day(value: object) -> date:
    """A date from the Xero simulator's state: ISO text or ``/Date(ms+0000)/``."""
    text = str(value)
    if text.startswith("/Date("):
        milliseconds = int(text[6:].split("+")[0].split(")")[0])
        return datetime.fromtimestamp(milliseconds / 1000, UTC).date()
    return date.fromisoformat(text[:10])


def _a_day_passes(harness: Harness, region: str) -> None:
    """Pending rows are asked about again a day after their last check (the runtime's clock
    is real, so the last check is moved back instead)."""
    with transaction(harness.runtime.sessions) as session:
        for row in session.scalars(
            select(InvoiceDetail).where(
                InvoiceDetail.xero_connection_id == harness.connections[region]
            )
        ):
            row.checked_at = row.checked_at - timedelta(days=1, minutes=1)


def tid_not_pbi(source: Any) -> bool:
    return "invoice" not in str(source.instrument_key).lower()


def test_pay_by_invoice_bills_fall_due_when_amazon_says(harness: Harness) -> None:
    """Before: the due date was always the configured 30 days, whatever Amazon's terms."""
    _import(harness, "US", payment_terms_days=45)
    _post(harness, "US")
    bills = _pay_by_invoice_bills(harness, "US")
    details = _details(harness, "US")
    assert bills
    for transaction_id, bill in bills.items():
        due = details[transaction_id].due_date
        assert due is not None
        bill_date = _day(bill["Date"])
        assert due - bill_date in (timedelta(days=45), timedelta(days=46))
        assert _day(bill["DueDate"]) == due


def test_failed_detail_calls_never_stop_posting_and_say_why(harness: Harness) -> None:
    _import(harness, "US", pbi_invoice_numbers=False)
    harness.amazon_admin("POST", "/_sim/faults", {"queue": ["404", "404"]})
    _post(harness, "US")
    bills = _pay_by_invoice_bills(harness, "US")
    details = _details(harness, "US")
    assert bills
    assert all(details[tid].status == "failed" and "404" in details[tid].error for tid in bills)
    assert all(bill["InvoiceNumber"].endswith(tid) for tid, bill in bills.items())
    assert {s.status for s in harness.sources("US")} <= {"posted", "skipped"}
    with harness.runtime.sessions() as session:
        events = session.scalars(select(Event).where(Event.code == "invoice_details_failed")).all()
    assert len(events) == 1
    assert "404" in events[0].message


def test_one_unknown_line_costs_only_its_own_transaction(harness: Harness) -> None:
    _import(harness, "US", pbi_invoice_numbers=False, strict_invoice_lookup=True)
    _post(harness, "US")
    bills = _pay_by_invoice_bills(harness, "US")
    generated = _generated_numbers(harness)
    assert bills
    assert all(
        bill["InvoiceNumber"].endswith(f" / {generated[tid]}") for tid, bill in bills.items()
    )


def test_uk_consolidated_invoices_attach_once_amazon_issues_them(harness: Harness) -> None:
    _import(harness, "UK", report_seconds=0)
    _post(harness, "UK")
    pending = {t for t, row in _details(harness, "UK").items() if row.status == "pending"}
    assert pending
    harness.amazon_admin("POST", "/_sim/clock", {"advance_seconds": 31 * 86400})
    _post(harness, "UK")
    assert {t for t, row in _details(harness, "UK").items() if row.status == "pending"} == pending
    _a_day_passes(harness, "UK")
    _post(harness, "UK")
    details = _details(harness, "UK")
    assert all(details[t].consolidated_number.startswith("GBC") for t in pending)
    lane = harness.runtime.attachment_lane(harness.connections["UK"], poll_seconds=0.01)
    while lane.run(limit=25).attached:
        pass
    names = {
        name for files in harness.organisation_state("UK")["attachments"].values() for name in files
    }
    assert {f"Amazon-{details[t].consolidated_number}.pdf" for t in pending} <= names
