"""The simulator's exchanges against Xero's OpenAPI spec, a property test, and a real socket."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abxero.web.serving import served
from abxero.xero import AccountingTransport, XeroAccounting
from abxero.xero.wire import encode_json
from abxero_sim.xero import create_app
from abxero_sim.xero.spec import SpecValidator
from tests.xero.xero_support import bill, line, payment, put_batch

PREFIX = "/api.xro/2.0"


EXPONENT_NUMBER = re.compile(rb"[:\[,]-?\d+(\.\d+)?[eE][+-]?\d")


def check_response(
    http: httpx.Client,
    spec: SpecValidator,
    headers: dict[str, str],
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    content = encode_json(body) if body is not None else None
    answer = http.request(
        method,
        PREFIX + path,
        headers={**headers, "Content-Type": "application/json"},
        content=content,
        params=query,
    )
    assert answer.status_code == 200, answer.text
    problems = spec.response_errors(
        method,
        PREFIX + path,
        list((query or {}).items()),
        headers,
        answer.status_code,
        answer.content,
        "application/json",
    )
    assert problems == []
    result: dict[str, Any] = answer.json()
    return result


def test_responses_match_the_spec(
    http: httpx.Client, sim_token: dict[str, Any], spec: SpecValidator
) -> None:
    headers = {
        "Authorization": f"Bearer {sim_token['access_token']}",
        "xero-tenant-id": sim_token["tenants"]["uk"],
    }
    for path in (
        "/Organisation",
        "/Accounts",
        "/TaxRates",
        "/TrackingCategories",
        "/Currencies",
        "/Contacts",
    ):
        check_response(http, spec, headers, "GET", path)
    contact_id = check_response(http, spec, headers, "GET", "/Contacts")["Contacts"][0]["ContactID"]
    query = {"summarizeErrors": "false"}
    created = check_response(
        http, spec, headers, "PUT", "/Invoices", {"Invoices": [bill(contact_id)]}, query
    )
    invoice_id = created["Invoices"][0]["InvoiceID"]
    check_response(
        http, spec, headers, "PUT", "/Payments", {"Payments": [payment(invoice_id, "5.00")]}, query
    )
    check_response(http, spec, headers, "GET", "/Invoices", query={"page": "1"})
    check_response(http, spec, headers, "GET", "/Payments")


def test_a_request_the_spec_refuses_is_counted(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    headers = {
        "Authorization": f"Bearer {sim_token['access_token']}",
        "xero-tenant-id": sim_token["tenants"]["uk"],
    }
    refused = http.put(PREFIX + "/Invoices", headers=headers, json={"Invoices": [{"Type": "BILL"}]})
    assert refused.status_code == 400
    assert refused.json()["Type"] == "PostDataInvalidException"
    counted = http.get("/_sim/stats").json()
    assert counted["spec_validation_failures"] == 1


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
lines = st.builds(
    line,
    amount=money.map(str),
    quantity=st.integers(min_value=1, max_value=20).map(str),
    account=st.sampled_from(["429", "453", "463"]),
    tax=st.sampled_from(["INPUT2", "RRINPUT", "ZERORATEDINPUT", "NONE"]),
)
bills = st.builds(
    lambda items, types, number: bill(
        "2f1b7e1c-6a70-4d8e-9d57-5d2e1c8e3f10", *items, LineAmountTypes=types, InvoiceNumber=number
    ),
    st.lists(lines, min_size=1, max_size=4),
    st.sampled_from(["Exclusive", "Inclusive", "NoTax"]),
    st.text(alphabet="ABCDEFGHIJ0123456789-", min_size=1, max_size=30),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(bills, min_size=1, max_size=50))
def test_every_batch_the_client_builds_passes_the_spec(
    spec: SpecValidator, batch: list[dict[str, Any]]
) -> None:
    body = encode_json({"Invoices": batch})
    errors = spec.request_errors(
        "PUT",
        PREFIX + "/Invoices",
        [("summarizeErrors", "false")],
        {"xero-tenant-id": "t", "Authorization": "Bearer x"},
        body,
        "application/json",
    )
    assert errors == []
    assert EXPONENT_NUMBER.search(body) is None


def test_over_a_real_socket() -> None:
    app = create_app(seed=3)
    with served(app) as running, httpx.Client(base_url=running.url) as http:
        token = http.post("/_sim/token", json={"tenants": ["us"]}).json()
        access = token["access_token"]
        transport = AccountingTransport(
            http, f"{running.url}/api.xro/2.0", token["tenants"]["us"], lambda: access
        )
        api = XeroAccounting(transport)
        assert api.organisation().name == "Demo Company (US)"
        contact_id = next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")
        result = put_batch(
            api,
            "Invoices",
            [bill(contact_id, line("19.99", account="648", tax="NONE"), CurrencyCode="USD")],
            "loop-1",
        )
        assert result.all_ok
        assert result.elements[0].data["Total"] == Decimal("19.99")
