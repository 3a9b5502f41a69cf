"""Abuse resistance: no request stalls the server, bodies and form collections are bounded,
odd values get a clear answer (never a 500), and signed webhook deliveries cannot be replayed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from abxero.jobs.tasks import Jobs
from abxero.services.webhooks import signature_of
from abxero.store.models import Event, XeroConnection
from abxero.web import create_app
from abxero.web.serving import served
from tests.web.conftest import Browser, set_up_organisation
from tests.web.web_support import csrf_of, form_fields

US = "Demo Company (US)"
CARDS = {"Visa/0071": "account:093"}
WEBHOOK_KEY = "a webhook key for these tests"


@pytest.fixture
def organisation(browser: Browser) -> int:
    browser.sign_in(["us"])
    return set_up_organisation(browser, US, "US", "us-bluebird", CARDS, days=10)


def mapping_form(browser: Browser, organisation: int) -> dict[str, str]:
    return form_fields(browser.web.get(f"/orgs/{organisation}/mapping").text)


# -- bounded collections and odd values ----------------------------------------------------


def test_a_rule_row_number_of_30000_is_refused_with_a_short_page(
    browser: Browser, organisation: int
) -> None:
    fields = mapping_form(browser, organisation)
    fields["expenses.rules[30000].value"] = "x"
    answer = browser.web.post(f"/orgs/{organisation}/mapping", data=fields)
    assert answer.status_code == 400
    assert "at most 50 expense rules" in answer.text
    assert len(answer.content) < 500_000
    assert answer.text.count('name="expenses.rules[') <= 50 * 4


@pytest.mark.parametrize("days", ["²", "٣٠", "1e3", "-1", "99999999999999999999"])
def test_odd_terms_days_get_a_message_not_a_500(
    browser: Browser, organisation: int, days: str
) -> None:
    fields = mapping_form(browser, organisation)
    fields["pay_by_invoice.terms_days"] = days
    answer = browser.web.post(f"/orgs/{organisation}/mapping", data=fields)
    assert answer.status_code == 400
    assert "Enter a number of days from 0 to 365." in answer.text


@pytest.mark.parametrize(
    "path", ["/orgs/{big}", "/orgs/{big}/mapping", "/orgs/1/runs/{big}", "/orgs/1?run={big}"]
)
def test_an_id_beyond_any_integer_column_is_not_found(
    browser: Browser, organisation: int, path: str
) -> None:
    answer = browser.web.get(path.format(big=2**64 + 1))
    assert answer.status_code == 404
    assert "Page not found" in answer.text


def test_too_many_payment_method_fields_are_refused_with_a_message(
    browser: Browser, organisation: int
) -> None:
    fields = mapping_form(browser, organisation)
    for index in range(300):
        fields[f"payment_methods['Visa/{index:04d}']"] = ""
    answer = browser.web.post(f"/orgs/{organisation}/mapping", data=fields)
    assert answer.status_code == 400
    assert "more than 200 payment methods" in answer.text


# -- body limits ---------------------------------------------------------------------------


def test_a_large_webhook_body_is_refused_before_it_is_read(browser: Browser) -> None:
    answer = browser.web.post("/webhooks/xero", content=b"x" * (1024 * 1024))
    assert answer.status_code == 413


def test_a_large_body_without_a_length_is_cut_off(browser: Browser) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"y" * 16384

    answer = browser.web.post("/webhooks/xero", content=chunks())
    assert answer.status_code == 413


def test_a_large_form_is_refused(browser: Browser) -> None:
    token = browser.csrf()
    body = f"csrf_token={token}&next=" + "a" * (512 * 1024)
    answer = browser.web.post(
        "/auth/xero/start",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413


# -- webhooks ------------------------------------------------------------------------------


def deliver(browser: Browser, payload: object | bytes) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"x-xero-signature": signature_of(WEBHOOK_KEY, body)}
    return browser.web.post("/webhooks/xero", content=body, headers=headers)


@pytest.fixture
def webhook_key(browser: Browser) -> None:
    settings = browser.runtime.settings
    browser.runtime.settings = settings.model_copy(
        update={"xero_webhook_key": SecretStr(WEBHOOK_KEY)}
    )


@pytest.mark.usefixtures("webhook_key")
def test_a_deeply_nested_signed_body_is_answered_without_a_500(browser: Browser) -> None:
    body = b'{"events":' + b"[" * 20000 + b"]" * 20000 + b"}"
    assert deliver(browser, body).status_code == 200


@pytest.mark.usefixtures("webhook_key")
def test_a_replayed_signed_delivery_changes_nothing(browser: Browser, organisation: int) -> None:
    with browser.runtime.sessions() as session:
        connection = session.get_one(XeroConnection, organisation)
        tenant, contact = connection.tenant_id, connection.contact_id
    assert contact
    event = {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{contact}",
        "resourceId": contact,
        "eventDateUtc": browser.runtime.now().strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "eventType": "UPDATE",
        "eventCategory": "CONTACT",
        "tenantId": tenant,
        "tenantType": "ORGANISATION",
    }
    delivery = {"events": [event], "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "e"}
    for _ in range(3):
        assert deliver(browser, delivery).status_code == 200
    with browser.runtime.sessions() as session:
        recorded = session.query(Event).filter_by(code="xero_contact_changed").count()
    assert recorded == 1


# -- the event loop ------------------------------------------------------------------------


class Gate(httpx.BaseTransport):
    """Holds every Xero API call while closed, as a slow Xero (or a 429 wait) would."""

    def __init__(self, inner: httpx.BaseTransport, xero_url: str) -> None:
        self.inner = inner
        self.xero_url = xero_url
        self.closed = False
        self.entered = threading.Event()
        self.opened = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.closed and str(request.url).startswith(self.xero_url + "/api.xro/"):
            self.entered.set()
            self.opened.wait(60)
        return self.inner.handle_request(request)


def test_a_slow_xero_call_in_one_request_does_not_delay_another(
    browser: Browser, organisation: int, jobs: Jobs
) -> None:
    runtime = browser.runtime
    gate = Gate(httpx.HTTPTransport(), runtime.settings.xero_api_url)
    runtime.http = httpx.Client(transport=gate)
    fields = mapping_form(browser, organisation)
    cookie = "; ".join(f"{name}={value}" for name, value in browser.web.cookies.items())
    results: dict[str, int] = {}
    with served(create_app(runtime, jobs)) as app:
        gate.closed = True

        def save() -> None:
            answer = httpx.post(
                f"{app.url}/orgs/{organisation}/mapping",
                data=fields,
                headers={"cookie": cookie},
                timeout=90,
            )
            results["save"] = answer.status_code

        saving = threading.Thread(target=save)
        saving.start()
        try:
            assert gate.entered.wait(30), "the save never reached Xero"
            other = httpx.get(f"{app.url}/", timeout=20)
            assert other.status_code == 200
            assert "save" not in results  # the first request is still waiting on Xero
        finally:
            gate.opened.set()
            saving.join(90)
    assert results["save"] == 303
    assert csrf_of(other.text)
