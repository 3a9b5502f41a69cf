"""The simulator behaves like real Xero where the product once assumed otherwise.

Each test names the outside source of the behaviour it pins (Xero's docs, the official OpenAPI
spec in shared/specs/xero/xero_accounting.yaml, or the official SDKs' issue trackers). The
simulator is driven over HTTP, in raw Xero JSON, with Decimal money.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from abxero_sim.clock import ManualClock
from abxero_sim.xero import create_app
from abxero_sim.xero.spec import SpecValidator
from abxero_sim.xero.wire import loads
from tests.xero.xero_support import BASE, state

API = "/api.xro/2.0"


def headers(token: dict[str, Any], key: str = "uk") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token['access_token']}",
        "xero-tenant-id": token["tenants"][key],
        "Content-Type": "application/json",
    }


def put(http: httpx.Client, token: dict[str, Any], path: str, body: Any, **query: str) -> Any:
    """PUT raw JSON; the parsed reply keeps numbers as Decimal."""
    reply = http.put(f"{API}/{path}", headers=headers(token), params=query, content=_json(body))
    return reply.status_code, loads(reply.content)


def _json(body: Any) -> bytes:
    from abxero_sim.xero.wire import dumps

    return dumps(body)


def contact_id(http: httpx.Client, key: str = "uk", name: str = "Amazon Business") -> str:
    found: str = next(c for c in state(http, key)["contacts"] if c["Name"] == name)["ContactID"]
    return found


def document(contact: str, *lines: dict[str, Any], kind: str = "ACCPAY", **more: Any) -> Any:
    body: dict[str, Any] = {
        "Type": kind,
        "Contact": {"ContactID": contact},
        "Date": "2026-07-01",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": list(lines),
    }
    if kind in {"ACCPAY", "ACCPAYCREDIT"}:
        body["DueDate"] = "2026-07-31"
    body.update(more)
    return body


def spend(contact: str, *lines: dict[str, Any], **more: Any) -> Any:
    return document(contact, *lines, kind="SPEND", BankAccount={"Code": "092"}, **more)


def item(unit: str, quantity: str = "1", **more: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "Description": "Printer paper",
        "Quantity": Decimal(quantity),
        "UnitAmount": Decimal(unit),
        "AccountCode": "429",
        "TaxType": "INPUT2",
    }
    money = {"LineAmount", "TaxAmount"}
    line.update({k: Decimal(v) if k in money else v for k, v in more.items()})
    return line


def messages(element: dict[str, Any]) -> list[str]:
    return [e["Message"] for e in element.get("ValidationErrors", [])]


# 1. Unit price decimals ------------------------------------------------------------------


def test_four_decimal_unit_price_without_unitdp_fails_the_line_total_check(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """Without ``unitdp=4`` Xero takes UnitAmount at 2 dp, so Qty × unit no longer makes the
    given LineAmount: "The line total … does not match the expected line total …"
    (Xero-NetStandard issues #74 and #147; docs: api-guides/rounding-in-xero, "By default,
    the API accepts unit prices (UnitAmount) to two decimals places")."""
    line = item("3.3333", "3", LineAmount="10.00")
    status, body = put(
        http,
        sim_token,
        "Invoices",
        {"Invoices": [document(contact_id(http), line)]},
        summarizeErrors="false",
    )
    assert status == 200
    assert messages(body["Invoices"][0]) == [
        "The line total 10.00 does not match the expected line total 9.99"
    ]
    assert state(http, "uk")["invoices"] == []


def test_four_decimal_unit_price_with_unitdp_is_kept(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    line = item("3.3333", "3", LineAmount="10.00")
    status, body = put(
        http,
        sim_token,
        "Invoices",
        {"Invoices": [document(contact_id(http), line)]},
        summarizeErrors="false",
        unitdp="4",
    )
    assert status == 200, body
    stored = body["Invoices"][0]["LineItems"][0]
    assert (stored["UnitAmount"], stored["LineAmount"]) == (Decimal("3.3333"), Decimal("10.00"))


def test_without_unitdp_and_without_line_amount_the_unit_price_is_rounded(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    status, body = put(
        http, sim_token, "Invoices", {"Invoices": [document(contact_id(http), item("3.3333", "3"))]}
    )
    assert status == 200
    stored = body["Invoices"][0]["LineItems"][0]
    assert (stored["UnitAmount"], stored["LineAmount"]) == (Decimal("3.33"), Decimal("9.99"))


def test_reads_show_unit_prices_at_two_places_unless_unitdp_4(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """``unitdp=4`` applies to reads too (docs: api-guides/rounding-in-xero; the spec lists
    ``unitdp`` on GET /Invoices/{InvoiceID})."""
    _, body = put(
        http,
        sim_token,
        "Invoices",
        {"Invoices": [document(contact_id(http), item("3.3333", "3"))]},
        unitdp="4",
    )
    invoice_id = body["Invoices"][0]["InvoiceID"]

    def unit_read(**query: str) -> Decimal:
        reply = http.get(f"{API}/Invoices/{invoice_id}", headers=headers(sim_token), params=query)
        value: Decimal = loads(reply.content)["Invoices"][0]["LineItems"][0]["UnitAmount"]
        return value

    assert unit_read() == Decimal("3.33")
    assert unit_read(unitdp="4") == Decimal("3.3333")


# 2. Tax overrides on bank transactions ---------------------------------------------------


def test_bank_transaction_tax_override_that_differs_is_refused(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """xero-node issue #768: a SPEND with an adjusted TaxAmount answers "Tax amount 52.23 is
    incorrect for INPUT2 tax type, should be 52.28"."""
    line = item("261.40", TaxAmount="52.23")
    status, body = put(
        http,
        sim_token,
        "BankTransactions",
        {"BankTransactions": [spend(contact_id(http), line)]},
        summarizeErrors="false",
    )
    assert status == 200
    assert messages(body["BankTransactions"][0]) == [
        "Tax amount 52.23 is incorrect for INPUT2 tax type, should be 52.28"
    ]
    assert state(http, "uk")["bank_transactions"] == []


def test_bank_transaction_tax_equal_to_xeros_is_accepted(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    line = item("261.40", TaxAmount="52.28")
    status, body = put(
        http, sim_token, "BankTransactions", {"BankTransactions": [spend(contact_id(http), line)]}
    )
    assert status == 200, body
    assert body["BankTransactions"][0]["TotalTax"] == Decimal("52.28")


def test_bills_and_credit_notes_keep_an_explicit_tax_amount(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """Invoices and credit notes accept an overridden TaxAmount (spec LineItem.TaxAmount:
    "If you wish to omit either the TaxAmount … it will be calculated"; xero-node #768 says
    the same override works on invoices)."""
    contact = contact_id(http)
    line = item("261.40", TaxAmount="52.23")
    _, bills = put(http, sim_token, "Invoices", {"Invoices": [document(contact, line)]})
    _, notes = put(
        http,
        sim_token,
        "CreditNotes",
        {"CreditNotes": [document(contact, line, kind="ACCPAYCREDIT")]},
    )
    assert bills["Invoices"][0]["TotalTax"] == Decimal("52.23")
    assert notes["CreditNotes"][0]["TotalTax"] == Decimal("52.23")


def test_the_bank_tax_knob_accepts_overrides(http: httpx.Client, sim_token: dict[str, Any]) -> None:
    knobs = http.post("/_sim/behaviour", json={"accept_bank_tax_overrides": True}).json()
    assert knobs["accept_bank_tax_overrides"] is True
    line = item("261.40", TaxAmount="52.23")
    status, body = put(
        http, sim_token, "BankTransactions", {"BankTransactions": [spend(contact_id(http), line)]}
    )
    assert status == 200, body
    assert body["BankTransactions"][0]["TotalTax"] == Decimal("52.23")
    http.post("/_sim/reset", json={})
    again = http.post("/_sim/behaviour", json={}).json()
    assert again["accept_bank_tax_overrides"] is False


def test_unknown_behaviour_knob_is_refused(http: httpx.Client) -> None:
    assert http.post("/_sim/behaviour", json={"no_such_knob": True}).status_code == 400
    wrong = http.post("/_sim/behaviour", json={"accept_bank_tax_overrides": "false"})
    assert wrong.status_code == 400
    assert http.post("/_sim/behaviour", json={}).json()["accept_bank_tax_overrides"] is False


# 3. Read-only properties -----------------------------------------------------------------


def test_read_only_properties_are_ignored_not_refused(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """xero-python writes read-only properties such as ``"HasAttachments": false``
    (shared/docs/xero-api.md §8.4, verified against the SDK); Xero ignores them. The spec
    marks Invoice.HasAttachments, AmountPaid and BankTransaction.HasAttachments readOnly."""
    contact = contact_id(http)
    bill = document(
        contact,
        item("10.00"),
        HasAttachments=False,
        AmountPaid=Decimal("5.00"),
        Total=Decimal("999.00"),
    )
    status, body = put(http, sim_token, "Invoices", {"Invoices": [bill]})
    assert status == 200, body
    stored = body["Invoices"][0]
    assert (stored["AmountPaid"], stored["Total"]) == (Decimal("0.00"), Decimal("12.00"))
    status, body = put(
        http,
        sim_token,
        "BankTransactions",
        {"BankTransactions": [spend(contact, item("10.00"), HasAttachments=False)]},
    )
    assert status == 200, body
    seen = http.get("/_sim/stats").json()
    assert seen["spec_rejections"] == []
    assert "Invoices[].HasAttachments" in seen["ignored_read_only"]
    assert "BankTransactions[].HasAttachments" in seen["ignored_read_only"]


def test_the_spec_marks_the_properties_we_ignore_read_only(spec: SpecValidator) -> None:
    from abxero_sim.xero.spec import _document

    schemas = _document(str(spec.path))["components"]["schemas"]
    invoice = schemas["Invoice"]["properties"]
    assert invoice["HasAttachments"].get("readOnly") is True
    assert invoice["AmountPaid"].get("readOnly") is True
    assert schemas["BankTransaction"]["properties"]["HasAttachments"].get("readOnly") is True


# 4. Query parameters only where the spec lists them --------------------------------------


def _spec_query_parameters(spec: SpecValidator, path: str) -> tuple[str, ...]:
    from abxero_sim.xero.spec import _document

    document_ = _document(str(spec.path))
    names = []
    for parameter in document_["paths"][path]["get"].get("parameters", []):
        if "$ref" in parameter:
            parameter = document_["components"]["parameters"][parameter["$ref"].split("/")[-1]]
        if parameter["in"] == "query":
            names.append(parameter["name"])
    return tuple(names)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/Invoices", ("Invoices", "list")),
        ("/Invoices/{InvoiceID}", ("Invoices", "one")),
        ("/CreditNotes", ("CreditNotes", "list")),
        ("/CreditNotes/{CreditNoteID}", ("CreditNotes", "one")),
        ("/BankTransactions", ("BankTransactions", "list")),
        ("/BankTransactions/{BankTransactionID}", ("BankTransactions", "one")),
        ("/Payments", ("Payments", "list")),
        ("/Payments/{PaymentID}", ("Payments", "one")),
        ("/Contacts", ("Contacts", "list")),
        ("/Contacts/{ContactID}", ("Contacts", "one")),
        ("/Accounts", ("Accounts", "list")),
        ("/TaxRates", ("TaxRates", "list")),
        ("/Currencies", ("Currencies", "list")),
        ("/TrackingCategories", ("TrackingCategories", "list")),
        ("/Organisation", ("Organisation", "list")),
    ],
)
def test_honoured_parameters_are_exactly_the_specs(
    spec: SpecValidator, path: str, key: tuple[str, str]
) -> None:
    from abxero_sim.xero.query import GET_PARAMETERS

    assert set(GET_PARAMETERS[key]) == set(_spec_query_parameters(spec, path))


def test_contact_ids_filter_invoices_but_not_credit_notes_or_bank_transactions(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """GET /Invoices lists ``ContactIDs``; GET /CreditNotes and GET /BankTransactions do not
    (xero_accounting.yaml), and Xero ignores a parameter an endpoint does not define."""
    amazon, viking = contact_id(http), contact_id(http, name="Viking Direct")
    for contact in (amazon, viking):
        put(http, sim_token, "Invoices", {"Invoices": [document(contact, item("10.00"))]})
        put(
            http,
            sim_token,
            "CreditNotes",
            {"CreditNotes": [document(contact, item("1.00"), kind="ACCPAYCREDIT")]},
        )
        put(
            http,
            sim_token,
            "BankTransactions",
            {"BankTransactions": [spend(contact, item("2.00"))]},
        )

    def contacts_listed(path: str, **query: str) -> set[str]:
        reply = http.get(f"{API}/{path}", headers=headers(sim_token), params=query)
        return {d["Contact"]["ContactID"] for d in reply.json()[path]}

    assert contacts_listed("Invoices", ContactIDs=amazon) == {amazon}
    assert contacts_listed("CreditNotes", ContactIDs=amazon) == {amazon, viking}
    assert contacts_listed("BankTransactions", ContactIDs=amazon) == {amazon, viking}
    assert (
        len(
            http.get(
                f"{API}/CreditNotes", headers=headers(sim_token), params={"Statuses": "DRAFT"}
            ).json()["CreditNotes"]
        )
        == 2
    )


def test_payments_ignore_ids_and_credit_notes_ignore_ids(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    contact = contact_id(http)
    _, first = put(
        http,
        sim_token,
        "CreditNotes",
        {"CreditNotes": [document(contact, item("1.00"), kind="ACCPAYCREDIT")]},
    )
    put(
        http,
        sim_token,
        "CreditNotes",
        {"CreditNotes": [document(contact, item("2.00"), kind="ACCPAYCREDIT")]},
    )
    one = first["CreditNotes"][0]["CreditNoteID"]
    listed = http.get(f"{API}/CreditNotes", headers=headers(sim_token), params={"IDs": one})
    assert len(listed.json()["CreditNotes"]) == 2
    by_invoice = http.get(f"{API}/Invoices", headers=headers(sim_token), params={"IDs": one})
    assert by_invoice.json()["Invoices"] == []


# 5. A 400 batch keeps its valid elements --------------------------------------------------


def _mixed_batch(http: httpx.Client) -> Any:
    contact = contact_id(http)
    good = document(contact, item("5.00"), InvoiceNumber="GOOD-1")
    bad = document(contact, item("5.00", AccountCode="999"), InvoiceNumber="BAD-1")
    return {"Invoices": [good, bad]}


def test_a_batch_answered_400_keeps_its_valid_elements(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """Xero saves the valid elements of a batch it answers 400 (summarizeErrors left at its
    default) and lists only the failed ones: xero-ruby issue #247 ("The invoice with ref 001
    has been successfully created in Xero, but api_response is nil"), and Stack Overflow
    52706101 ("the valid invoices from my request are still created")."""
    status, body = put(http, sim_token, "Invoices", _mixed_batch(http))
    assert status == 400
    assert body["Type"] == "ValidationException"
    assert [e["InvoiceNumber"] for e in body["Elements"]] == ["BAD-1"]
    assert [i["InvoiceNumber"] for i in state(http, "uk")["invoices"]] == ["GOOD-1"]


def test_the_rollback_knob_undoes_the_whole_batch(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    http.post("/_sim/behaviour", json={"rollback_failed_batches": True})
    status, _ = put(http, sim_token, "Invoices", _mixed_batch(http))
    assert status == 400
    assert state(http, "uk")["invoices"] == []


# 6. Organisations in more time zones -----------------------------------------------------


@pytest.fixture
def zoned_clock() -> ManualClock:
    return ManualClock(datetime(2026, 7, 15, 20, 30, tzinfo=UTC))


@pytest.fixture
def zoned(zoned_clock: ManualClock) -> Iterator[httpx.Client]:
    app = create_app(
        seed=7,
        clock=zoned_clock,
        extra_timezones=("SAWESTERNSTANDARDTIME", "WESTPACIFICSTANDARDTIME", "EEUROPESTANDARDTIME"),
    )
    with TestClient(app, base_url=BASE) as client:
        yield client


def test_extra_organisations_in_far_time_zones(zoned: httpx.Client, http: httpx.Client) -> None:
    """Xero's TimeZone enum (xero_accounting.yaml) names these zones; the two demo companies
    stay exactly as they were."""
    orgs = {o["key"]: o for o in zoned.get("/_sim/state").json()["organisations"]}
    plain = {o["key"]: o for o in http.get("/_sim/state").json()["organisations"]}
    assert set(orgs) == {"us", "uk", "us-sawestern", "uk-westpacific", "uk-eeurope"}
    for key in ("us", "uk"):
        assert orgs[key]["tenant_id"] == plain[key]["tenant_id"]
        assert orgs[key]["organisation"] == plain[key]["organisation"]
    zones = {key: orgs[key]["organisation"]["Timezone"] for key in orgs}
    assert zones["uk-westpacific"] == "WESTPACIFICSTANDARDTIME"
    assert zones["us-sawestern"] == "SAWESTERNSTANDARDTIME"
    assert zones["uk-eeurope"] == "EEUROPESTANDARDTIME"
    assert orgs["uk-westpacific"]["organisation"]["Name"] == "Demo Company (UK) Port Moresby"


def test_a_document_without_date_takes_the_organisations_today(zoned: httpx.Client) -> None:
    """Date defaults to today in the organisation's time zone (shared/docs/xero-api.md §4.1):
    at 20:30 UTC on 15 July it is already 16 July in Port Moresby (UTC+10)."""
    token = zoned.post("/_sim/token", json={}).json()
    contact = contact_id(zoned, "uk-westpacific")
    bill = document(contact, item("10.00"))
    del bill["Date"]
    reply = zoned.put(
        f"{API}/Invoices",
        headers=headers(token, "uk-westpacific"),
        content=_json({"Invoices": [bill]}),
    )
    assert reply.status_code == 200, reply.text
    stored = state(zoned, "uk-westpacific")["invoices"][0]
    assert stored["Date"] == "/Date(1784160000000+0000)/"  # 2026-07-16
    organisation = zoned.get(f"{API}/Organisation", headers=headers(token, "uk-westpacific"))
    assert organisation.json()["Organisations"][0]["Timezone"] == "WESTPACIFICSTANDARDTIME"


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="MARSSTANDARDTIME"):
        create_app(extra_timezones=("MARSSTANDARDTIME",))


# 7. The clock knob and the query parameters in /_sim/stats --------------------------------


def test_moving_the_clock_expires_access_tokens(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """Access tokens live 30 minutes (shared/docs/xero-api.md §1)."""
    assert http.get(f"{API}/Organisation", headers=headers(sim_token)).status_code == 200
    moved = http.post("/_sim/clock", json={"advance_seconds": 30 * 60 + 1}).json()
    assert moved["offset_seconds"] == 30 * 60 + 1
    assert http.get(f"{API}/Organisation", headers=headers(sim_token)).status_code == 401


def test_moving_the_clock_ends_the_idempotency_window(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """Idempotency keys are kept 6 minutes (shared/docs/xero-api.md, Idempotency)."""
    body = {"Invoices": [document(contact_id(http), item("10.00"))]}

    def send() -> int:
        sent = http.put(
            f"{API}/Invoices",
            headers={**headers(sim_token), "Idempotency-Key": "clock-key"},
            content=_json(body),
        )
        return sent.status_code

    assert send() == 200
    assert send() == 200
    assert len(state(http, "uk")["invoices"]) == 1
    http.post("/_sim/clock", json={"advance_seconds": 6 * 60 + 1})
    assert send() == 200
    assert len(state(http, "uk")["invoices"]) == 2


def test_moving_the_clock_opens_a_new_rate_window(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    http.post("/_sim/faults", json={"limits": {"per_minute": 2}})
    statuses = [
        http.get(f"{API}/Organisation", headers=headers(sim_token)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    http.post("/_sim/clock", json={"now": "2026-07-15T12:01:00+00:00"})
    assert http.get(f"{API}/Organisation", headers=headers(sim_token)).status_code == 200


def test_the_clock_never_goes_back(http: httpx.Client) -> None:
    assert http.post("/_sim/clock", json={"now": "2020-01-01T00:00:00+00:00"}).status_code == 400
    assert http.post("/_sim/clock", json={"advance_seconds": -5}).status_code == 400


def test_stats_record_each_requests_query_parameters(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    put(
        http,
        sim_token,
        "Invoices",
        {"Invoices": [document(contact_id(http), item("1.2345"))]},
        summarizeErrors="false",
        unitdp="4",
    )
    http.get(f"{API}/Invoices", headers=headers(sim_token), params={"page": "1"})
    recent = http.get("/_sim/stats").json()["recent_requests"]
    written = [r for r in recent if r["endpoint"] == "PUT /Invoices"]
    assert written == [
        {
            "endpoint": "PUT /Invoices",
            "path": "/api.xro/2.0/Invoices",
            "query": [["summarizeErrors", "false"], ["unitdp", "4"]],
            "status": 200,
        }
    ]
    assert [r["query"] for r in recent if r["endpoint"] == "GET /Invoices"] == [[["page", "1"]]]


def test_query_parameter_names_match_whatever_their_case(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """A Xero SDK maintainer's example writes ``?SummarizeErrors=false`` (Stack Overflow
    52706101); Xero reads parameter names case-insensitively."""
    status, body = put(http, sim_token, "Invoices", _mixed_batch(http), SummarizeErrors="false")
    assert status == 200
    assert [bool(i.get("HasErrors")) for i in body["Invoices"]] == [False, True]
    listed = http.get(
        f"{API}/Invoices", headers=headers(sim_token), params={"invoicenumbers": "GOOD-1"}
    )
    assert [i["InvoiceNumber"] for i in listed.json()["Invoices"]] == ["GOOD-1"]


def test_reference_is_dropped_on_supplier_documents_and_search_finds_the_number(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """``Reference`` is "ACCREC only" on Invoice and "ACCRECCREDIT only" on CreditNote
    (xero_accounting.yaml); Xero ignores it on a bill (XeroAPI/Xero-NetStandard#249) and shows
    ``InvoiceNumber`` as the bill's reference. ``searchTerm`` on GET Invoices searches
    InvoiceNumber and Reference case-insensitively; ``where`` takes ``.Contains("…")``
    (Xero's requests-and-responses guide)."""
    contact = contact_id(http)
    bill = document(contact, item("10.00"), InvoiceNumber="114-0000311-1156610 / INV-1")
    status, _ = put(http, sim_token, "Invoices", {"Invoices": [{**bill, "Reference": "kept?"}]})
    assert status == 200
    credit = document(
        contact, item("5.00"), kind="ACCPAYCREDIT", CreditNoteNumber="114-0000311-1156610 / CM-1"
    )
    status, _ = put(
        http, sim_token, "CreditNotes", {"CreditNotes": [{**credit, "Reference": "kept?"}]}
    )
    assert status == 200
    other = document(contact, item("3.00"), InvoiceNumber="114-9999999-0000000")
    assert put(http, sim_token, "Invoices", {"Invoices": [other]})[0] == 200

    found = http.get(
        f"{API}/Invoices", headers=headers(sim_token), params={"searchTerm": "114-0000311"}
    ).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in found] == ["114-0000311-1156610 / INV-1"]
    assert "Reference" not in found[0]
    notes = http.get(
        f"{API}/CreditNotes",
        headers=headers(sim_token),
        params={"where": 'CreditNoteNumber.Contains("0000311-1156610")'},
    ).json()["CreditNotes"]
    assert [n["CreditNoteNumber"] for n in notes] == ["114-0000311-1156610 / CM-1"]
    assert "Reference" not in notes[0]
    ignored = http.get(
        f"{API}/CreditNotes", headers=headers(sim_token), params={"searchTerm": "nothing"}
    ).json()["CreditNotes"]
    assert len(ignored) == len(state(http, "uk")["credit_notes"])  # not a CreditNotes parameter
