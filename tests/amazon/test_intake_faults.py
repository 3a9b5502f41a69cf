"""Rate limits that name no rate, and downloads wrapped in odd ways, against the simulator."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from abxero.amazon import (
    DocumentClient,
    InvoiceClient,
    OrderLineRef,
    SkippableRecordError,
    TransactionFeed,
    unpack_pdf,
)
from abxero_sim.amazon.documents import package
from tests.amazon.amazon_support import START, ApiFor, Sleeps, set_faults

UK_MARKET = "A1F83G8C2ARO7P"


def uk_invoice(api_for: ApiFor) -> str:
    feed = TransactionFeed(api_for("uk-harbour"))
    for record in feed.transactions(START - timedelta(days=30), START):
        if record.raw["transactionType"] == "CHARGE" and record.raw.get("invoiceNumber"):
            return str(record.raw["invoiceNumber"])
    raise AssertionError("no UK invoice in the period")


def test_a_429_without_the_rate_header_waits_the_documented_pace(
    http: httpx.Client, api_for: ApiFor, sleeps: Sleeps
) -> None:
    """Before: with no x-amzn-RateLimit-Limit the client retried createReport (documented at
    0.0167 requests a second) after half a second, straight into the next 429."""
    set_faults(http, rate_limits=False)
    invoice = uk_invoice(api_for)
    set_faults(http, queue=["429"], rate_limit_header=False)
    bare = http.get("/_sim/state").json()
    assert bare["faults"]["rate_limit_header"] is False
    report_id = DocumentClient(api_for("uk-harbour")).create_invoice_report(
        UK_MARKET, invoice_id=invoice
    )
    assert report_id
    assert len(sleeps.calls) == 1
    assert sleeps.calls[0] >= 59


def test_the_simulator_leaves_the_rate_header_off_its_429(
    http: httpx.Client, sim_token: object
) -> None:
    token = http.post("/_sim/token", json={"business_id": "uk-harbour"}).json()["access_token"]
    set_faults(http, queue=["429", "429"], rate_limit_header=False)
    params = {"feedStartDate": "2026-02-01T00:00:00Z", "feedEndDate": "2026-02-02T00:00:00Z"}
    headers = {"x-amz-access-token": token}
    bare = http.get("/reconciliation/2021-01-08/transactions", params=params, headers=headers)
    assert bare.status_code == 429
    assert "x-amzn-ratelimit-limit" not in bare.headers
    set_faults(http, rate_limit_header=True)
    named = http.get("/reconciliation/2021-01-08/transactions", params=params, headers=headers)
    assert named.headers["x-amzn-ratelimit-limit"] == "2.0"


@pytest.mark.parametrize("packaging", ["pdf", "gzip", "zip", "gzip_zip"])
@pytest.mark.parametrize("member", ["invoice.pdf", "INVOICE", "GB1234.PDF.bin"])
def test_every_packaging_gives_back_the_pdf(
    http: httpx.Client, api_for: ApiFor, packaging: str, member: str
) -> None:
    set_faults(http, rate_limits=False, report_seconds=0)
    invoice = uk_invoice(api_for)
    set_faults(http, document_packaging=packaging, document_member_name=member)
    pdf = DocumentClient(api_for("uk-harbour")).fetch_invoice_pdf(
        UK_MARKET, invoice, poll_seconds=0
    )
    assert pdf.startswith(b"%PDF")
    assert invoice.encode() in pdf


def test_an_archive_without_any_pdf_is_unavailable_not_an_error() -> None:
    not_pdf = package(b"<html>sorry</html>", "gzip_zip", "invoice.pdf")
    with pytest.raises(SkippableRecordError, match="no PDF"):
        unpack_pdf(not_pdf)
    with pytest.raises(SkippableRecordError, match="cannot be unpacked"):
        unpack_pdf(b"\x1f\x8b truncated")


def pay_by_invoice_charges(api_for: ApiFor) -> list[dict[str, Any]]:
    feed = TransactionFeed(api_for("us-acme"))
    return [
        r.raw
        for r in feed.transactions(START - timedelta(days=30), START)
        if r.raw["transactionType"] == "CHARGE"
        and r.raw["paymentInstrumentType"] == "Pay by Invoice"
    ]


def test_one_unknown_line_is_narrowed_down_when_amazon_refuses_the_whole_batch(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, rate_limits=False, strict_invoice_lookup=True)
    lines = [
        OrderLineRef(item["orderId"], item["orderLineItemId"], item["shipmentId"])
        for charge in pay_by_invoice_charges(api_for)[:3]
        for item in charge["transactionLineItems"]
    ]
    bogus = OrderLineRef("111-0000000-0000000", "1", "Dxxx")
    results = list(InvoiceClient(api_for("us-acme")).invoice_details([*lines, bogus]))
    assert [r.line for r in results] == [*lines, bogus]
    assert all(r.invoices and not r.error for r in results[:-1])
    assert results[-1].invoices == ()
    assert "400" in results[-1].error


def test_payment_details_follow_the_terms_knob_and_tolerate_a_bare_success(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, rate_limits=False, payment_terms_days=45)
    charges = pay_by_invoice_charges(api_for)[:2]
    numbers = [str(c["invoiceNumber"]) for c in charges]
    client = InvoiceClient(api_for("us-acme"))
    for charge, payment in zip(charges, client.payment_details(numbers), strict=True):
        assert payment.due_date is not None
        shipped = datetime.fromisoformat(str(charge["transactionDate"]).replace("Z", "+00:00"))
        assert payment.due_date.date() - shipped.date() == timedelta(days=45)
    set_faults(http, payment_details=False, strict_invoice_lookup=True)
    bare = list(client.payment_details([*numbers, "NOPE-1"]))
    assert [(p.found, p.due_date) for p in bare[:2]] == [(True, None), (True, None)]
    assert all("no payment details" in p.error for p in bare[:2])
    assert (bare[2].found, "400" in bare[2].error) == (False, True)
