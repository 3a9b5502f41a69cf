"""The simulator's answers validate against Amazon's published models, and the official
static-sandbox requests get the official samples."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest

from abxero.domain.transactions import Transaction, parse_transaction
from abxero_sim.specs import amazon_models_dir
from tests.amazon.amazon_support import SimToken, set_faults

# SpecsMissing (naming the path and ABXERO_SPECS_DIR) fails the collection when they are absent
SPECS = amazon_models_dir()
TRANSACTIONS = "/reconciliation/2021-01-08/transactions"
WINDOW = {"feedStartDate": "2026-01-20T00:00:00Z", "feedEndDate": "2026-02-20T00:00:00Z"}


def spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPECS / name).read_text(encoding="utf-8"))
    return loaded


RECON = spec("reconciliation-2021-01-08.json")
DOCS = spec("document-2021-09-30.json")


def validate(model: dict[str, Any], definition: str, value: Any) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": model["definitions"]}
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(value)


def sample(model: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = model["paths"][path][method]["responses"][status]["x-amzn-api-sandbox"][
        "static"
    ][0]
    return found


@pytest.fixture
def headers(sim_token: SimToken) -> dict[str, str]:
    return {"x-amz-access-token": sim_token("us-acme")["access_token"]}


@pytest.fixture
def uk_headers(sim_token: SimToken) -> dict[str, str]:
    return {"x-amz-access-token": sim_token("uk-harbour")["access_token"]}


def test_transaction_pages_match_the_model(http: httpx.Client, headers: dict[str, str]) -> None:
    set_faults(http, page_size=40)
    response = http.get(TRANSACTIONS, params=WINDOW, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "2.0"
    assert len(response.headers["x-amzn-RequestId"]) == 36
    body = response.json()
    validate(RECON, "TransactionsResponse", body)
    assert len(body["transactions"]) == 40
    assert body["nextPageToken"]
    follow = http.get(
        TRANSACTIONS, params={"nextPageToken": body["nextPageToken"]}, headers=headers
    )
    validate(RECON, "TransactionsResponse", follow.json())


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"feedStartDate": "yesterday", "feedEndDate": "2026-02-01T00:00:00Z"}, 400),
        ({"feedStartDate": "2026-02-02T00:00:00Z", "feedEndDate": "2026-02-01T00:00:00Z"}, 400),
        ({"nextPageToken": "not-a-token"}, 400),
    ],
)
def test_bad_requests_get_an_error_list(
    http: httpx.Client, headers: dict[str, str], params: dict[str, str], status: int
) -> None:
    response = http.get(TRANSACTIONS, params=params, headers=headers)
    assert response.status_code == status
    validate(RECON, "ErrorList", response.json())
    assert response.json()["errors"][0]["code"] == "INVALID_REQUEST_PARAMETER"


def test_an_invalid_date_gets_the_official_message(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    params = {"feedStartDate": "2026-13-45", "feedEndDate": "2026-02-01T00:00:00Z"}
    error = http.get(TRANSACTIONS, params=params, headers=headers).json()["errors"][0]
    assert error["message"] == "Input date [2026-13-45] is not in the expected ISO8601 format."


def test_no_token_is_403_and_no_rate_spared(http: httpx.Client) -> None:
    response = http.get(TRANSACTIONS, params=WINDOW)
    assert response.status_code == 403
    validate(RECON, "ErrorList", response.json())
    wrong = http.get(TRANSACTIONS, params=WINDOW, headers={"x-amz-access-token": "Atza|nope"})
    assert wrong.status_code == 403


def test_invoice_and_payment_details_match_the_model(
    http: httpx.Client, uk_headers: dict[str, str], headers: dict[str, str]
) -> None:
    records = http.get(TRANSACTIONS, params=WINDOW, headers=uk_headers).json()["transactions"]
    refs = [
        {key: line[key] for key in ("orderId", "orderLineItemId", "shipmentId")}
        for record in records[:10]
        for line in record["transactionLineItems"]
    ][:25]
    details = http.post(
        "/reconciliation/2021-01-08/invoices", json={"orderLineItems": refs}, headers=uk_headers
    )
    assert details.status_code == 200
    validate(RECON, "InvoiceDetailsByOrderLineItemsResponse", details.json())
    numbers = {record["invoiceNumber"] for record in records[:10]}
    found = {
        invoice["invoiceNumber"]
        for entry in details.json()["invoiceDetailsByOrderLineItems"]
        for invoice in entry["invoiceDetails"]
    }
    assert numbers <= found
    too_many = http.post(
        "/reconciliation/2021-01-08/invoices",
        json={"orderLineItems": [refs[0]] * 26},
        headers=uk_headers,
    )
    assert too_many.status_code == 400

    us = http.get(TRANSACTIONS, params=WINDOW, headers=headers).json()["transactions"]
    charges = [r for r in us if r["transactionType"] == "CHARGE"]
    pbi = [r["invoiceNumber"] for r in charges if r["paymentInstrumentType"] == "Pay by Invoice"]
    card = [
        r["invoiceNumber"]
        for r in us
        if r.get("invoiceNumber") and "paymentInstrumentLast4Digits" in r
    ]
    payments = http.post(
        "/reconciliation/2021-01-08/invoices/batch/paymentDetails",
        json={"invoiceIds": pbi[:3] + card[:1]},
        headers=headers,
    )
    body = payments.json()
    validate(RECON, "GetBatchInvoicePaymentDetailsResponse", body)
    results = body["invoicePaymentDetailsResults"]
    for result in results[:3]:
        validate(RECON, "SuccessInvoicePaymentDetailResult", result)
    validate(RECON, "FailedInvoicePaymentDetailResult", results[3])
    assert [r["resultType"] for r in results] == ["SUCCESS"] * 3 + ["ERROR"]
    empty = http.post(
        "/reconciliation/2021-01-08/invoices/batch/paymentDetails",
        json={"invoiceIds": []},
        headers=headers,
    )
    assert empty.status_code == 400


def test_sandbox_transactions_are_served_verbatim(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    official = sample(RECON, TRANSACTIONS, "get", "200")
    params = {k: v["value"] for k, v in official["request"]["parameters"].items()}
    response = http.get(TRANSACTIONS, params=params, headers=headers)
    assert response.status_code == 200
    assert response.json() == official["response"]
    bad = sample(RECON, TRANSACTIONS, "get", "400")
    params = {k: v["value"] for k, v in bad["request"]["parameters"].items()}
    response = http.get(TRANSACTIONS, params=params, headers=headers)
    assert response.status_code == 400
    assert response.json() == bad["response"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/reconciliation/2021-01-08/invoices", "200"),
        ("/reconciliation/2021-01-08/invoices/batch/paymentDetails", "200"),
        ("/reconciliation/2021-01-08/invoices/batch/paymentDetails", "400"),
    ],
)
def test_sandbox_bodies_are_served_verbatim(
    http: httpx.Client, headers: dict[str, str], path: str, status: str
) -> None:
    official = sample(RECON, path, "post", status)
    body = official["request"]["parameters"]["body"]["value"]
    response = http.post(path, json=body, headers=headers)
    assert response.status_code == int(status)
    assert response.json() == official["response"]


def test_sandbox_documents_are_served_verbatim(http: httpx.Client, headers: dict[str, str]) -> None:
    created = sample(DOCS, "/reports/2021-09-30/reports", "post", "202")
    body = created["request"]["parameters"]["body"]["value"]
    response = http.post("/reports/2021-09-30/reports", json=body, headers=headers)
    assert (response.status_code, response.json()) == (202, created["response"])
    report = sample(DOCS, "/reports/2021-09-30/reports/{reportId}", "get", "200")
    response = http.get("/reports/2021-09-30/reports/ID323", headers=headers)
    assert response.json() == report["response"]
    document = sample(DOCS, "/reports/2021-09-30/documents/{reportDocumentId}", "get", "200")
    response = http.get(
        "/reports/2021-09-30/documents/0356cf79-b8b0-4226-b4b9-0ee058ea5760", headers=headers
    )
    assert response.json() == document["response"]


def test_the_official_sample_parses_and_adds_up() -> None:
    official = sample(RECON, TRANSACTIONS, "get", "200")["response"]["transactions"][0]
    transaction = parse_transaction(official)
    assert isinstance(transaction, Transaction)
    assert transaction.amount == Decimal("5.99")
    line = transaction.line_items[0]
    assert line.principal + line.shipping + line.discount + line.tax == line.total
    assert transaction.instrument.looks_like_pay_by_invoice
    assert line.business_order_info["GL code"] == "535-office"


def test_document_api_answers_match_the_model(
    http: httpx.Client, uk_headers: dict[str, str], clock: Any
) -> None:
    records = http.get(TRANSACTIONS, params=WINDOW, headers=uk_headers).json()["transactions"]
    invoice = records[0]["invoiceNumber"]
    kind = "Invoice" if records[0]["transactionType"] == "CHARGE" else "Credits"
    spec_body = {
        "reportType": "GET_AB_INVOICE_PDF",
        "marketplaceIds": ["A1F83G8C2ARO7P"],
        "reportOptions": {"invoiceId": invoice, "documentType": kind},
    }
    created = http.post("/reports/2021-09-30/reports", json=spec_body, headers=uk_headers)
    assert created.status_code == 202
    validate(DOCS, "CreateReportResponse", created.json())
    report_id = created.json()["reportId"]
    report = http.get(f"/reports/2021-09-30/reports/{report_id}", headers=uk_headers).json()
    validate(DOCS, "Report", report)
    assert report["processingStatus"] == "IN_QUEUE"
    clock.advance(10)
    report = http.get(f"/reports/2021-09-30/reports/{report_id}", headers=uk_headers).json()
    validate(DOCS, "Report", report)
    document = http.get(
        f"/reports/2021-09-30/documents/{report['reportDocumentId']}", headers=uk_headers
    )
    validate(DOCS, "ReportDocument", document.json())
    wrong = http.post(
        "/reports/2021-09-30/reports", json={**spec_body, "reportType": "X"}, headers=uk_headers
    )
    assert wrong.status_code == 400
    validate(DOCS, "ErrorList", wrong.json())


def test_specs_are_read_from_the_shared_folder_not_the_repo() -> None:
    assert Path(__file__).resolve().parents[2] not in SPECS.resolve().parents


def test_a_page_token_is_bound_to_its_dates_and_business(
    http: httpx.Client, headers: dict[str, str], uk_headers: dict[str, str]
) -> None:
    set_faults(http, page_size=5)
    token = http.get(TRANSACTIONS, params=WINDOW, headers=headers).json()["nextPageToken"]
    same = http.get(TRANSACTIONS, params={**WINDOW, "nextPageToken": token}, headers=headers)
    assert same.status_code == 200
    moved = {**WINDOW, "feedEndDate": "2026-02-21T00:00:00Z", "nextPageToken": token}
    assert http.get(TRANSACTIONS, params=moved, headers=headers).status_code == 400
    other = http.get(TRANSACTIONS, params={"nextPageToken": token}, headers=uk_headers)
    assert other.status_code == 400


def test_get_reports_sample_and_listing(
    http: httpx.Client, uk_headers: dict[str, str], clock: Any
) -> None:
    official = sample(DOCS, "/reports/2021-09-30/reports", "get", "200")
    params = {k: ",".join(v["value"]) for k, v in official["request"]["parameters"].items()}
    response = http.get("/reports/2021-09-30/reports", params=params, headers=uk_headers)
    assert response.json() == official["response"]
    records = http.get(TRANSACTIONS, params=WINDOW, headers=uk_headers).json()["transactions"]
    body = {
        "reportType": "GET_AB_INVOICE_PDF",
        "marketplaceIds": ["A1F83G8C2ARO7P"],
        "reportOptions": {"invoiceId": records[0]["invoiceNumber"]},
    }
    first = http.post("/reports/2021-09-30/reports", json=body, headers=uk_headers).json()
    cancel = http.delete(f"/reports/2021-09-30/reports/{first['reportId']}", headers=uk_headers)
    assert cancel.status_code == 200
    http.post("/reports/2021-09-30/reports", json=body, headers=uk_headers)
    listing = http.get("/reports/2021-09-30/reports", headers=uk_headers).json()
    validate(DOCS, "GetReportsResponse", listing)
    statuses = [report["processingStatus"] for report in listing["reports"]]
    assert statuses == ["IN_QUEUE", "CANCELLED"]
    clock.advance(10)
    late = http.delete(f"/reports/2021-09-30/reports/{first['reportId']}", headers=uk_headers)
    assert late.status_code == 400
