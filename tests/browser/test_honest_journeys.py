"""Issue #21's journeys in Chromium, each step kept as a screenshot: connecting the wrong
Amazon account, the store chosen from the organisation, a manage page that puts what blocks
posting first (archived contact, Xero refusing to be read, quarantined records decided on),
disconnecting, and a mapping form that shows every problem at once."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from abxero.store.models import SourceTransaction, XeroConnection
from abxero.web.server import RunningApp
from tests.browser.conftest import Shots
from tests.browser.journey import (
    connect_amazon,
    import_history,
    map_accounts,
    review_and_finish,
    sign_in,
    wait_until_idle,
)

pytestmark = pytest.mark.browser
US_CARDS = {"f-payment-methods-Mastercard-8830": "account:092"}  # Visa 0071 maps itself


def forget_xero_reads(live: RunningApp) -> None:
    """Pages reuse a Xero read for a minute; these journeys change Xero in between."""
    app: Any = live.served.server.config.app
    for connection_id in range(1, 10):
        app.state.contexts.forget(connection_id)


def wait_for_source(live: RunningApp, transaction_id: str, seconds: float = 60) -> None:
    """Until the worker has stored ``transaction_id`` (a queued sync may not have started)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with live.runtime.sessions() as session:
            found = session.query(SourceTransaction).filter_by(transaction_id=transaction_id)
            if found.count():
                return
        time.sleep(0.2)
    raise AssertionError(f"{transaction_id} was not stored")


def set_up_bluebird(page: Page, live: RunningApp, shots: Shots) -> None:
    sign_in(page, live, shots, ["us"])
    connect_amazon(page, shots, "US", "us-bluebird", allow=True)
    import_history(page, live, shots, days=5)
    visa = page.locator("#f-payment-methods-Visa-0071")
    expect(visa).to_have_value("account:093")  # "Visa Corporate Card" names the brand
    map_accounts(page, shots, US_CARDS)
    review_and_finish(page, shots)
    wait_until_idle(live)
    page.reload()


def test_connecting_an_account_of_another_store_is_explained_first(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    sign_in(page, live, shots, ["us", "uk"])
    page.click("text=Demo Company (UK)")
    expect(page.locator("#region-UK")).to_be_checked()  # from GB / GBP
    expect(page.locator("#store-hint")).to_be_visible()
    shots.take("3-uk-store-chosen")
    page.goto(live.url + "/orgs")
    page.click("text=Demo Company (US)")
    expect(page.locator("#region-US")).to_be_checked()
    connect_amazon(page, shots, "US", "uk-harbour", allow=True)
    expect(page.locator("h1")).to_have_text(
        "This Amazon Business account does not fit this organisation"
    )
    expect(page.locator(".problem")).to_contain_text("buys on amazon.co.uk (United Kingdom)")
    expect(page.locator(".problem")).to_contain_text("What to do:")
    shots.take("5-mismatch")
    with live.runtime.sessions() as session:
        assert session.query(SourceTransaction).count() == 0  # nothing imported
    page.click("#retry")
    expect(page.locator("h1")).to_have_text("Connect Amazon Business")


def test_the_manage_page_puts_what_blocks_posting_first(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    set_up_bluebird(page, live, shots)
    expect(page.locator("#overall-status")).to_have_class(re.compile("ok"))

    # a record Amazon sent that cannot be read, and an archived supplier contact
    amazon = live.runtime.settings.amazon_api_url_na
    listed = outside.get(
        f"{amazon}/_sim/transactions", params={"business_id": "us-bluebird", "count": 1}
    ).json()["transactions"]
    now = live.runtime.now()
    broken = {
        **listed[0],
        "transactionId": "BROWSERBROKEN1",
        "amount": {"currencyCode": "USD", "amount": "twelve"},
        "feedDate": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "transactionDate": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    outside.post(
        f"{amazon}/_sim/transactions", json={"business_id": "us-bluebird", "transactions": [broken]}
    ).raise_for_status()
    page.click("#sync-now")
    wait_for_source(live, "BROWSERBROKEN1")
    wait_until_idle(live)
    with live.runtime.sessions() as session:
        contact_id = session.query(XeroConnection).one().contact_id
    xero = live.runtime.settings.xero_api_url
    outside.post(
        f"{xero}/_sim/orgs/us", json={"contacts": {contact_id: {"ContactStatus": "ARCHIVED"}}}
    ).raise_for_status()
    page.reload()
    expect(page.locator("#overall-status")).to_have_class(re.compile("bad"))
    expect(page.locator("#problem-contact_archived")).to_be_visible()
    box = page.locator("#blocking").bounding_box()
    health = page.locator("#health").bounding_box()
    assert box is not None
    assert health is not None
    assert box["y"] < health["y"]  # above everything else
    quarantined = page.locator("#quarantine")
    expect(quarantined).to_contain_text("Amazon's amount for it is not a number.")
    expect(quarantined).to_contain_text(listed[0]["transactionLineItems"][0]["orderId"])
    shots.take("11-blocked-and-quarantined")
    quarantined.locator("button[value=entered_by_hand]").first.click()
    expect(page.locator(".flash")).to_contain_text("abxero will not post that record")
    expect(page.locator("#set-aside")).to_contain_text("1 set aside by a person")
    shots.take("12-entered-by-hand")

    # Xero refuses to be read (400): the page still renders, with the cause and remedy
    outside.post(
        f"{xero}/_sim/faults", json={"server_errors": 30, "server_error_status": 400}
    ).raise_for_status()
    forget_xero_reads(live)
    response = page.reload()
    assert response is not None
    assert response.status == 200
    expect(page.locator("#problem-xero_unreadable")).to_contain_text("What to do:")
    shots.take("13-xero-unreadable")
    outside.post(f"{xero}/_sim/faults", json={"server_errors": 0}).raise_for_status()


def test_a_disconnected_organisation_offers_only_reconnecting(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    set_up_bluebird(page, live, shots)
    page.click("#disconnect")
    page.click("#confirm-disconnect")
    expect(page.locator("#problem-disconnected")).to_be_visible()
    for gone in ("#sync-now", "#start-import", "#edit-mapping", "#payment-methods", "#disconnect"):
        expect(page.locator(gone)).to_have_count(0)
    expect(page.locator("#reconnect-disconnected")).to_be_visible()
    shots.take("11-disconnected")


def test_the_mapping_form_shows_every_problem_at_once(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    sign_in(page, live, shots, ["us", "uk"])
    page.click("text=Demo Company (UK)")
    connect_amazon(page, shots, "UK", "uk-harbour", allow=True)
    import_history(page, live, shots, days=5)
    cards = page.locator("select[id^='f-payment-methods-']:not([id*='Invoice'])")
    assert cards.count() >= 2
    for index in range(cards.count()):  # no account names a brand or digits: none chosen
        expect(cards.nth(index)).to_have_value("")
    expect(page.locator("#policies")).to_contain_text("Spend money from an account")
    cards.first.select_option("account:094")  # the EUR account for a GBP card
    page.fill("#f-pay-by-invoice-terms-days", "1000")
    shots.take("8-mapping-wrong")
    page.click("#save-mapping")
    summary = page.locator("#mapping-errors")
    expect(summary.locator("li")).to_have_count(2)
    expect(summary).to_contain_text("holds EUR; choose an account in GBP")
    expect(summary).to_contain_text("Enter a number of days from 0 to 365.")
    shots.take("9-mapping-errors")
    summary.locator("a", has_text="from 0 to 365").click()
    assert page.url.endswith("#f-pay-by-invoice-terms-days")
