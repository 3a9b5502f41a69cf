"""Invoice details, payment details and invoice PDFs through the client."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import pytest

from abxero.amazon import (
    DocumentClient,
    InvoiceClient,
    OrderLineRef,
    RetriableError,
    SkippableRecordError,
    TransactionFeed,
    unpack_pdf,
)
from abxero_sim.clock import ManualClock
from tests.amazon.amazon_support import START, ApiFor, set_faults

UK_MARKET = "A1F83G8C2ARO7P"
US_MARKET = "ATVPDKIKX0DER"


def charges(api_for: ApiFor, business_id: str) -> list[dict[str, Any]]:
    feed = TransactionFeed(api_for(business_id))
    raws = [r.raw for r in feed.transactions(START - timedelta(days=30), START)]
    return [raw for raw in raws if raw["transactionType"] == "CHARGE"]


def test_uk_invoice_pdf_end_to_end(http: httpx.Client, api_for: ApiFor, clock: ManualClock) -> None:
    set_faults(http, rate_limits=True)
    uk = [
        c
        for c in charges(api_for, "uk-harbour")
        if c["transactionLineItems"][0]["unspsc"] != "43233004"
    ]
    documents = DocumentClient(api_for("uk-harbour"))
    pdf = documents.fetch_invoice_pdf(UK_MARKET, uk[0]["invoiceNumber"], poll_seconds=2)
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert uk[0]["invoiceNumber"].encode() in pdf
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[startxref:].startswith(b"xref")
    offsets = [int(row[:10]) for row in pdf[startxref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())


def test_us_card_orders_have_no_pdf_but_pay_by_invoice_ones_do(
    http: httpx.Client, api_for: ApiFor
) -> None:
    us = charges(api_for, "us-acme")
    card = next(c for c in us if c.get("invoiceNumber") and "paymentInstrumentLast4Digits" in c)
    invoice = next(c for c in us if c["paymentInstrumentType"] == "Pay by Invoice")
    documents = DocumentClient(api_for("us-acme"))
    with pytest.raises(SkippableRecordError, match="CANCELLED"):
        documents.fetch_invoice_pdf(US_MARKET, card["invoiceNumber"], poll_seconds=2)
    assert documents.fetch_invoice_pdf(US_MARKET, invoice["invoiceNumber"]).startswith(b"%PDF")


def test_a_report_by_order_line_and_a_fatal_one(http: httpx.Client, api_for: ApiFor) -> None:
    uk = charges(api_for, "uk-harbour")
    line = uk[0]["transactionLineItems"][0]
    documents = DocumentClient(api_for("uk-harbour"))
    ref = OrderLineRef(line["orderId"], line["orderLineItemId"], line["shipmentId"])
    report_id = documents.create_invoice_report(UK_MARKET, order_line=ref)
    assert documents.get_report(report_id).status == "IN_QUEUE"
    assert documents.wait_for_report(report_id, poll_seconds=1)
    set_faults(http, report_outcomes=["FATAL"])
    fatal = documents.create_invoice_report(UK_MARKET, invoice_id=uk[0]["invoiceNumber"])
    with pytest.raises(SkippableRecordError) as skipped:
        documents.wait_for_report(fatal, poll_seconds=1)
    assert skipped.value.code == "FATAL"


def test_report_still_running_is_retriable(http: httpx.Client, api_for: ApiFor) -> None:
    set_faults(http, report_seconds=1000)
    invoice = charges(api_for, "uk-harbour")[0]["invoiceNumber"]
    documents = DocumentClient(api_for("uk-harbour"))
    report_id = documents.create_invoice_report(UK_MARKET, invoice_id=invoice)
    with pytest.raises(RetriableError, match="still not done"):
        documents.wait_for_report(report_id, poll_seconds=1, max_polls=3)


def test_the_download_url_expires_after_five_minutes(
    http: httpx.Client, api_for: ApiFor, clock: ManualClock
) -> None:
    invoice = charges(api_for, "uk-harbour")[0]["invoiceNumber"]
    documents = DocumentClient(api_for("uk-harbour"))
    document_id = documents.wait_for_report(
        documents.create_invoice_report(UK_MARKET, invoice_id=invoice), poll_seconds=3
    )
    document = documents.get_document(document_id)
    clock.advance(301)
    with pytest.raises(RetriableError, match="expired"):
        documents.download(document)
    tampered = document.url.replace("Signature=", "Signature=0")
    assert http.get(tampered).status_code == 403


def test_document_api_is_throttled_to_about_one_a_minute(
    http: httpx.Client, api_for: ApiFor
) -> None:
    invoice = charges(api_for, "uk-harbour")[0]["invoiceNumber"]
    token = api_for("uk-harbour").tokens.access_token()
    body = {
        "reportType": "GET_AB_INVOICE_PDF",
        "marketplaceIds": [UK_MARKET],
        "reportOptions": {"invoiceId": invoice, "documentType": "Invoice"},
    }
    statuses = [
        http.post("/reports/2021-09-30/reports", json=body, headers={"x-amz-access-token": token})
        for _ in range(16)
    ]
    assert [r.status_code for r in statuses] == [202] * 15 + [429]
    assert statuses[-1].headers["x-amzn-RateLimit-Limit"] == "0.0167"


def test_invoice_details_batch_25_at_a_time(http: httpx.Client, api_for: ApiFor) -> None:
    set_faults(http, rate_limits=False)
    uk = charges(api_for, "uk-harbour")
    refs = [
        OrderLineRef(line["orderId"], line["orderLineItemId"], line["shipmentId"])
        for charge in uk
        for line in charge["transactionLineItems"]
    ][:60]
    before = http.get("/_sim/state").json()["requests"].get("getInvoiceDetailsByOrderLineItems", 0)
    results = list(InvoiceClient(api_for("uk-harbour")).invoice_details(refs))
    after = http.get("/_sim/state").json()["requests"]["getInvoiceDetailsByOrderLineItems"]
    assert after - before == 3
    assert [r.line for r in results] == refs
    assert all(r.invoices and r.invoices[0].date is not None for r in results)
    numbers = {invoice.number for r in results for invoice in r.invoices}
    assert {
        c["invoiceNumber"]
        for c in uk
        if c["transactionLineItems"][0]["orderLineItemId"]
        in {ref.order_line_item_id for ref in refs}
    } <= numbers


def test_payment_details_for_pay_by_invoice(http: httpx.Client, api_for: ApiFor) -> None:
    us = charges(api_for, "us-acme")
    pbi = [c["invoiceNumber"] for c in us if c["paymentInstrumentType"] == "Pay by Invoice"]
    results = list(InvoiceClient(api_for("us-acme")).payment_details([*pbi[:2], "NOPE-1"]))
    assert [r.found for r in results] == [True, True, False]
    assert all(
        r.status in {"Issued", "Past Due", "Closed", "Payment Processing"} for r in results[:2]
    )
    assert all(r.due_date is not None for r in results[:2])
    assert results[2].error


def test_unpacking_gzip_and_zip_documents() -> None:
    pdf = b"%PDF-1.4 tiny"
    assert unpack_pdf(gzip.compress(pdf)) == pdf
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("invoice.pdf", pdf)
    assert unpack_pdf(buffer.getvalue()) == pdf
    with pytest.raises(SkippableRecordError):
        unpack_pdf(b"<html>")
