"""The manage page over HTTP: status, sync, holds and remapping, errors and retry, manual
import, activity links, account remapping, disconnect."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from abxero.store.models import OutboxDocument, SourceTransaction
from tests.web.conftest import Browser, set_up_organisation, sim_invoices
from tests.web.web_support import form_fields, query_of

US = "Demo Company (US)"
CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


@pytest.fixture
def organisation(browser: Browser) -> int:
    browser.sign_in(["us"])
    return set_up_organisation(browser, US, "US", "us-bluebird", CARDS, days=10)


def add_card_purchase(browser: Browser, last4: str) -> str:
    """A new Amazon transaction paid with a card abxero has not seen; its id."""
    amazon = browser.runtime.settings.amazon_api_url_na
    listed = browser.outside.get(
        f"{amazon}/_sim/transactions", params={"business_id": "us-bluebird", "count": 1}
    ).json()
    record = dict(listed["transactions"][0] if isinstance(listed, dict) else listed[0])
    now = browser.runtime.now()
    record.update(
        transactionId=f"NEWCARD{last4}",
        paymentInstrumentLast4Digits=last4,
        paymentInstrumentType="Visa",
        feedDate=(now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        transactionDate=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    answer = browser.outside.post(
        f"{amazon}/_sim/transactions",
        json={"business_id": "us-bluebird", "transactions": [record]},
    )
    assert answer.status_code == 200, answer.text
    return str(record["transactionId"])


def test_manage_page_shows_both_sides_and_sync_times(browser: Browser, organisation: int) -> None:
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Connected: Bluebird Dental LLC (US)" in page
    assert 'id="last-sync"' in page
    assert "never" not in page.split('id="last-sync"')[1][:40]
    assert 'id="sync-now"' in page


def test_activity_links_to_the_xero_bill_and_the_amazon_order(
    browser: Browser, organisation: int
) -> None:
    page = browser.web.get(f"/orgs/{organisation}").text
    bills = sim_invoices(browser, "us")
    assert "https://go.xero.com/organisationlogin/default.aspx?shortcode=" in page
    assert any(
        f"redirecturl=/AccountsPayable/Edit.aspx?InvoiceID={bill['InvoiceID']}" in page
        for bill in bills
    )
    assert "https://www.amazon.com/gp/your-account/order-details?orderID=" in page


def test_a_new_card_waits_and_mapping_it_posts_its_purchases(
    browser: Browser, organisation: int
) -> None:
    transaction_id = add_card_purchase(browser, "7777")
    before = len(sim_invoices(browser, "us"))
    browser.post(f"/orgs/{organisation}/sync", page=f"/orgs/{organisation}")
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Visa ending 7777" in page
    assert ">New</span>" in page
    assert "Waiting to post" in page
    assert len(sim_invoices(browser, "us")) == before
    fields = form_fields(page)
    payment = {k: v for k, v in fields.items() if k.startswith("payment_methods[")}
    payment["payment_methods['Visa/7777']"] = "account:093"
    saved = browser.post(f"/orgs/{organisation}/payment-methods", payment, f"/orgs/{organisation}")
    assert saved.status_code == 303
    with browser.runtime.sessions() as session:
        source = session.query(SourceTransaction).filter_by(transaction_id=transaction_id).one()
        assert source.status == "posted"
    assert len(sim_invoices(browser, "us")) == before + 1


def test_a_refused_document_shows_its_cause_and_can_be_retried(
    browser: Browser, organisation: int
) -> None:
    transaction_id = add_card_purchase(browser, "6666")
    browser.post(f"/orgs/{organisation}/sync", page=f"/orgs/{organisation}")
    with browser.runtime.sessions() as session, session.begin():
        source = session.query(SourceTransaction).filter_by(transaction_id=transaction_id).one()
        source.status = "planned"
        session.add(
            OutboxDocument(
                xero_connection_id=organisation,
                transaction_id=transaction_id,
                role="bill",
                doc_key=f"{transaction_id}:bill",
                endpoint="Invoices",
                payload="{}",
                content_hash="x",
                amount=source.amount,
                currency="USD",
                status="failed",
                error="Account code 649 is archived. Pick an active account, then retry.",
            )
        )
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Xero refused these" in page
    assert "Account code 649 is archived" in page
    payment = {k: v for k, v in form_fields(page).items() if k.startswith("payment_methods[")}
    payment["payment_methods['Visa/6666']"] = "account:093"
    browser.post(f"/orgs/{organisation}/payment-methods", payment, f"/orgs/{organisation}")
    retried = browser.post(
        f"/orgs/{organisation}/retry", {"transaction_id": transaction_id}, f"/orgs/{organisation}"
    )
    assert retried.status_code == 303
    with browser.runtime.sessions() as session:
        source = session.query(SourceTransaction).filter_by(transaction_id=transaction_id).one()
        assert source.status == "posted"
        statuses = {
            d.status for d in session.query(OutboxDocument).filter_by(transaction_id=transaction_id)
        }
        assert statuses == {"posted"}
    assert "Xero refused these" not in browser.web.get(f"/orgs/{organisation}").text


def test_importing_an_imported_range_posts_nothing(browser: Browser, organisation: int) -> None:
    before = len(sim_invoices(browser, "us"))
    today = browser.runtime.now().date()
    started = browser.post(
        f"/orgs/{organisation}/import",
        {"first": (today - timedelta(days=10)).isoformat(), "last": today.isoformat()},
        f"/orgs/{organisation}",
    )
    run = query_of(started.headers["location"].split("#")[0])["run"]
    page = browser.web.get(f"/orgs/{organisation}?run={run}").text
    result = re.search(r'id="import-result">(\d+) new, (\d+) already', page)
    assert result
    assert result.group(1) == "0"
    assert int(result.group(2)) > 0
    assert len(sim_invoices(browser, "us")) == before


def test_accounts_can_be_remapped(browser: Browser, organisation: int) -> None:
    page = browser.web.get(f"/orgs/{organisation}/mapping").text
    fields = form_fields(page)
    fields["line_types.shipping"] = "624"
    saved = browser.web.post(f"/orgs/{organisation}/mapping", data=fields)
    assert saved.status_code == 303
    assert (
        form_fields(browser.web.get(f"/orgs/{organisation}/mapping").text)["line_types.shipping"]
        == "624"
    )


def test_disconnect_revokes_both_sides_and_keeps_the_ledger(
    browser: Browser, organisation: int
) -> None:
    xero = browser.runtime.settings.xero_api_url
    connections = browser.outside.get(f"{xero}/_sim/state").json()["connections"]
    with browser.runtime.sessions() as session:
        posted = session.query(SourceTransaction).filter_by(status="posted").count()
    assert "Disconnect" in browser.web.get(f"/orgs/{organisation}/disconnect").text
    browser.post(f"/orgs/{organisation}/disconnect", page=f"/orgs/{organisation}/disconnect")
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Disconnected" in page
    assert "Reconnect Xero" in page
    assert browser.outside.get(f"{xero}/_sim/state").json()["connections"] == connections - 1
    with browser.runtime.sessions() as session:
        assert session.query(SourceTransaction).filter_by(status="posted").count() == posted
    browser.sign_in(["us"])
    assert "Connected" in browser.web.get(f"/orgs/{organisation}").text
