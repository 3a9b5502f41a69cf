"""Rate limits that name no rate, and downloads wrapped in odd ways, against the simulator."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from abxero.amazon import DocumentClient, SkippableRecordError, TransactionFeed, unpack_pdf
from abxero.simulators.amazon.documents import package
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
