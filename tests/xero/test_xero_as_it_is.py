"""The client against Xero as Xero really answers: 4-dp unit prices, header spellings, clock
skew, identity outages, and response shapes taken from the spec's own examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
import pytest
import yaml
from pydantic import BaseModel

from abxero.xero import (
    Account,
    Attachment,
    Contact,
    Currency,
    DayLimitError,
    HistoryRecord,
    IdTokenError,
    Organisation,
    PaymentSummary,
    RetriableError,
    RetryPolicy,
    TaxRate,
    TokenManager,
    TrackingCategory,
    XeroAccounting,
    XeroAuth,
    XeroError,
    XeroTokens,
    connect_accounting,
    write_query,
)
from abxero.xero.accounting import BANK_TRANSACTIONS, CREDIT_NOTES, INVOICES, summarise
from abxero.xero.wire import decode_json
from abxero_sim.clock import ManualClock
from abxero_sim.xero.spec import find_spec
from tests.xero.test_identity import sign_in
from tests.xero.xero_support import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT,
    bill,
    line,
    payment,
    put_batch,
)

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


@cache
def official_spec() -> dict[str, Any]:
    """``xero_accounting.yaml`` from the shared specs (``SpecsMissing`` fails the test without
    it, naming the path and ABXERO_SPECS_DIR)."""
    path = find_spec()
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def recording(http: httpx.Client) -> list[httpx.Request]:
    """Every request ``http`` sends from now on, as it went out."""
    sent: list[httpx.Request] = []
    http.event_hooks = {"request": [sent.append], "response": []}
    return sent


def production_client(http: httpx.Client, sim_token: dict[str, Any], key: str) -> XeroAccounting:
    """The client exactly as the product builds it (``connect_accounting``)."""
    tokens = XeroTokens(sim_token["access_token"], None, FAR_FUTURE, ())
    auth = XeroAuth(http, CLIENT_ID, CLIENT_SECRET, REDIRECT, identity_url=BASE, api_url=BASE)
    manager = TokenManager(auth, load=lambda: tokens, save=lambda renewed: None)
    return connect_accounting(http, sim_token["tenants"][key], manager, api_url=BASE)


def amazon_contact(api: XeroAccounting) -> str:
    return next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")


# -- unitdp=4 ------------------------------------------------------------------------------


def test_documents_are_written_with_unitdp_4_and_keep_four_decimal_unit_prices(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """2 x GBP 9.99 incl. VAT is 8.3250 ex VAT: Xero takes two decimals unless the request
    says ``unitdp=4`` (developer.xero.com "Rounding in Xero"; XeroAPI/Xero-NetStandard#147,
    "The line total … does not match the expected line total …")."""
    api = production_client(http, sim_token, "uk")
    contact = amazon_contact(api)
    sent = recording(http)
    created = put_batch(
        api,
        "Invoices",
        [bill(contact, line("8.3250", quantity="2", TaxAmount=Decimal("3.33")))],
        "unitdp-1",
    )
    paid = put_batch(
        api, "Payments", [payment(created.elements[0].xero_id or "", "1.00")], "unitdp-2"
    )
    assert created.all_ok, created.elements[0].errors
    assert paid.all_ok, paid.elements[0].errors
    puts = [r for r in sent if r.method == "PUT"]
    assert [r.url.path.rsplit("/", 1)[-1] for r in puts] == ["Invoices", "Payments"]
    assert dict(puts[0].url.params) == {"summarizeErrors": "false", "unitdp": "4"}
    assert dict(puts[1].url.params) == {"summarizeErrors": "false"}
    stored = api.get_document("Invoices", created.elements[0].xero_id or "")
    assert stored is not None
    assert Decimal(str(stored["LineItems"][0]["LineAmount"])) == Decimal("16.65")


def test_every_unit_priced_endpoint_opts_in_and_the_others_do_not() -> None:
    """The spec lists ``unitdp`` on PUT Invoices, CreditNotes and BankTransactions only."""
    spec = official_spec()
    for path in ("Invoices", "CreditNotes", "BankTransactions", "Payments"):
        names = {p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1] for p in _put(spec, path)}
        has_unitdp = "unitdp" in write_query(path)
        assert has_unitdp == ("unitdp" in names), path
    assert write_query("CreditNotes/abc/Allocations") == "summarizeErrors=false"


def _put(spec: dict[str, Any], path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = spec["paths"][f"/{path}"]["put"].get("parameters", [])
    return found


def test_a_stored_query_is_sent_exactly_as_stored(
    http: httpx.Client, sim_token: dict[str, Any]
) -> None:
    """A batch stored by an older version (no unitdp) is resent as that version sent it."""
    api = production_client(http, sim_token, "uk")
    body = b'{"Invoices":[' + _plain_bill(amazon_contact(api)) + b"]}"
    sent = recording(http)
    api.send_stored_batch("Invoices", body, "legacy-1", "summarizeErrors=false")
    api.send_stored_batch("Invoices", body, "current-1", write_query("Invoices"))
    assert [r.url.query for r in sent] == [
        b"summarizeErrors=false",
        b"summarizeErrors=false&unitdp=4",
    ]
    assert [r.headers["Idempotency-Key"] for r in sent] == ["legacy-1", "current-1"]
    with pytest.raises(ValueError, match="summarizeErrors=false"):
        api.send_stored_batch("Invoices", body, "bad-1", "unitdp=4")


def _plain_bill(contact: str) -> bytes:
    return (
        b'{"Type":"ACCPAY","Contact":{"ContactID":"' + contact.encode() + b'"},'
        b'"Date":"2026-07-01","InvoiceNumber":"OLD-1","Status":"AUTHORISED",'
        b'"LineAmountTypes":"Exclusive","LineItems":[{"Description":"x","Quantity":1,'
        b'"UnitAmount":10.00,"AccountCode":"429","TaxType":"INPUT2"}]}'
    )


# -- rate-limit header spellings --------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["Daily", "day", "DAY"])
def test_any_spelling_of_the_day_limit_parks_instead_of_waiting(
    http: httpx.Client, make_api: Any, sleeps: list[float], spelling: str
) -> None:
    """``X-Rate-Limit-Problem: Daily`` is reported alongside ``day`` (calcinai/xero-php#352)."""
    http.post(
        "/_sim/faults",
        json={"rate_limit_storm": 1, "storm_problem": spelling, "storm_retry_after": 3600},
    )
    with pytest.raises(DayLimitError):
        make_api("uk").organisation()
    assert not sleeps


@pytest.mark.parametrize("spelling", ["Minute", "minute"])
def test_any_spelling_of_the_minute_limit_waits_and_retries(
    http: httpx.Client, make_api: Any, sleeps: list[float], spelling: str
) -> None:
    http.post(
        "/_sim/faults",
        json={"rate_limit_storm": 1, "storm_problem": spelling, "storm_retry_after": 2},
    )
    api = make_api("uk", retry=RetryPolicy(max_retry_after=30))
    assert api.organisation().base_currency == "GBP"
    assert sleeps == [2.0]


# -- id_token clock skew ----------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-5, 305])
def test_id_token_verifies_with_a_few_seconds_of_clock_skew(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock, skew: int
) -> None:
    """Our clock 5 s behind Xero's (token "issued in the future"), or 5 s past the 5-minute
    expiry: both within the leeway RFC 7519 §4.1.4/§4.1.6 allows."""
    tokens, request = sign_in(http, auth)
    assert tokens.id_token
    skewed = XeroAuth(
        http,
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT,
        identity_url=BASE,
        now=lambda: clock.now() + timedelta(seconds=skew),
    )
    claims = skewed.verify_id_token(tokens.id_token, nonce=request.nonce)
    assert claims.email == "demo.user@example.com"


def test_id_token_far_past_expiry_is_still_rejected(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock
) -> None:
    tokens, _ = sign_in(http, auth)
    assert tokens.id_token
    clock.advance(300 + 120)
    with pytest.raises(IdTokenError):
        auth.verify_id_token(tokens.id_token)


# -- identity outages ---------------------------------------------------------------------------


def _identity_failing(how: str, good: httpx.Client) -> httpx.Client:
    """Xero's identity host that fails the discovery or JWKS call in one way."""

    def answer(request: httpx.Request) -> httpx.Response:
        target = "/.well-known/openid-configuration" if how.startswith("discovery") else "/jwks"
        if request.url.path.endswith(target):
            if how.endswith("refused"):
                raise httpx.ConnectError("connection refused", request=request)
            if how.endswith("5xx"):
                return httpx.Response(503, text="Service Unavailable")
            return httpx.Response(200, content=b"<html>maintenance</html>")
        real = good.get(request.url.path)
        return httpx.Response(real.status_code, content=real.content)

    return httpx.Client(transport=httpx.MockTransport(answer), base_url=BASE)


@pytest.mark.parametrize(
    "how",
    [
        "discovery-refused",
        "discovery-5xx",
        "discovery-badjson",
        "jwks-refused",
        "jwks-5xx",
        "jwks-badjson",
    ],
)
def test_discovery_and_jwks_failures_are_typed_xero_errors(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock, how: str
) -> None:
    tokens, _ = sign_in(http, auth)
    assert tokens.id_token
    flaky = XeroAuth(
        _identity_failing(how, http),
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT,
        identity_url=BASE,
        now=clock.now,
    )
    with pytest.raises(XeroError) as caught:
        flaky.verify_id_token(tokens.id_token)
    assert isinstance(caught.value, RetriableError)


# -- the spec's own response examples ---------------------------------------------------------

_MODELS: dict[str, type[BaseModel]] = {
    "Accounts": Account,
    "Attachments": Attachment,
    "Contacts": Contact,
    "Currencies": Currency,
    "HistoryRecords": HistoryRecord,
    "Organisations": Organisation,
    "Payments": PaymentSummary,
    "TaxRates": TaxRate,
    "TrackingCategories": TrackingCategory,
}
_DOCUMENTS = {
    "Invoices": INVOICES,
    "CreditNotes": CREDIT_NOTES,
    "BankTransactions": BANK_TRANSACTIONS,
}


def _response_examples(node: Any, inside_response: bool = False) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = inside_response or key == "responses"
            if here and key in {"example", "value"}:
                parsed = decode_json(value) if isinstance(value, str) else value
                if isinstance(parsed, dict):
                    found.append(parsed)
                continue
            found.extend(_response_examples(value, here))
    elif isinstance(node, list):
        for item in node:
            found.extend(_response_examples(item, inside_response))
    return found


def _example_items(root: str) -> list[dict[str, Any]]:
    spec = official_spec()
    return [
        item
        for example in _response_examples(spec["paths"])
        for item in example.get(root) or []
        if isinstance(item, dict)
    ]


@pytest.mark.parametrize("root", sorted(_MODELS))
def test_the_spec_response_examples_parse(root: str) -> None:
    """Xero's examples omit fields such as ``Account.Status`` and ``Contact.Name``."""
    items = _example_items(root)
    assert items, f"the spec has no {root} response example"
    for item in items:
        _MODELS[root].model_validate(item)


@pytest.mark.parametrize("root", sorted(_DOCUMENTS))
def test_the_spec_document_examples_summarise(root: str) -> None:
    items = [item for item in _example_items(root) if _DOCUMENTS[root].id_field in item]
    assert items, f"the spec has no {root} response example"
    for item in items:
        assert summarise(_DOCUMENTS[root], item).id == item[_DOCUMENTS[root].id_field]
