"""The whole journey in Chromium, from "Sign in with Xero" to bills in the Xero simulator."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from abxero.web.server import RunningApp
from tests.browser.conftest import Shots
from tests.browser.journey import (
    connect_amazon,
    import_history,
    map_accounts,
    reload_until_visible,
    review_and_finish,
    sign_in,
    sim_bills,
    wait_for_bills,
    wait_until_idle,
)

pytestmark = pytest.mark.browser
US_CARDS = {
    "f-payment-methods-Visa-0071": "account:093",
    "f-payment-methods-Mastercard-8830": "account:092",
}


def add_card_purchase(outside: httpx.Client, live: RunningApp, last4: str) -> None:
    amazon = live.runtime.settings.amazon_api_url_na
    listed = outside.get(
        f"{amazon}/_sim/transactions", params={"business_id": "us-bluebird", "count": 1}
    ).json()["transactions"]
    now = live.runtime.now()
    record = {
        **listed[0],
        "transactionId": f"BROWSERCARD{last4}",
        "paymentInstrumentLast4Digits": last4,
        "paymentInstrumentType": "Visa",
        "feedDate": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "transactionDate": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    outside.post(
        f"{amazon}/_sim/transactions", json={"business_id": "us-bluebird", "transactions": [record]}
    ).raise_for_status()


def test_us_journey_new_card_and_reimport(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    sign_in(page, live, shots, ["us"])
    connect_amazon(page, shots, "US", "us-bluebird", allow=True)
    import_history(page, live, shots, days=10)
    assert sim_bills(outside, live, "us") == []  # nothing posted before Finish
    map_accounts(page, shots, US_CARDS)
    assert review_and_finish(page, shots) > 0
    bills = wait_for_bills(outside, live, "us", at_least=1)
    assert bills
    wait_until_idle(live)
    posted = len(sim_bills(outside, live, "us"))

    # a new card shows up with its waiting purchase; mapping it posts it
    add_card_purchase(outside, live, "7777")
    page.reload()
    page.click("#sync-now")
    reload_until_visible(page, "#f-payment-methods-Visa-7777")
    card = page.locator("#f-payment-methods-Visa-7777")
    expect(card).to_be_visible()
    expect(page.locator("#payment-methods")).to_contain_text("1 waiting")
    shots.take("11-new-card")
    card.select_option("account:093")
    page.click("#save-payment-methods")
    assert len(wait_for_bills(outside, live, "us", at_least=posted + 1)) == posted + 1
    wait_until_idle(live)

    # importing the same range again posts nothing
    today = live.runtime.now().date()
    page.fill("#first", (today - timedelta(days=10)).isoformat())
    page.fill("#last", today.isoformat())
    page.click("#start-import")
    expect(page.locator("#import-result")).to_contain_text("0 new", timeout=60_000)
    shots.take("12-reimport")
    wait_until_idle(live)
    assert len(sim_bills(outside, live, "us")) == posted + 1


def test_uk_journey(page: Page, live: RunningApp, outside: httpx.Client, shots: Shots) -> None:
    sign_in(page, live, shots, ["us", "uk"])
    expect(page.locator("h1")).to_have_text("Choose an organisation")
    page.click("text=Demo Company (UK)")
    connect_amazon(page, shots, "UK", "uk-thistle", allow=True)
    import_history(page, live, shots, days=10)
    # "Company Credit Card" names neither brand nor digits: the card starts unmapped
    expect(page.locator("#f-payment-methods-Visa-6604")).to_have_value("")
    map_accounts(page, shots, {"f-payment-methods-Visa-6604": "account:092"})
    assert review_and_finish(page, shots) > 0
    bills = wait_for_bills(outside, live, "uk", at_least=1)
    assert bills
    assert {bill["CurrencyCode"] for bill in bills} == {"GBP"}
    reload_until_visible(page, "#activity a[href*='go.xero.com']")
    links = page.locator("#activity a[href*='go.xero.com']")
    expect(links.first).to_be_visible()


def test_denied_amazon_consent_then_sign_out(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    sign_in(page, live, shots, ["us"])
    connect_amazon(page, shots, "US", "us-acme", allow=False)
    expect(page.locator("h1")).to_have_text("Amazon Business was not connected")
    shots.take("5-denied")
    page.click("#retry")
    expect(page.locator("h1")).to_have_text("Connect Amazon Business")
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    page.goto(live.url + "/orgs")
    expect(page.locator("#sign-in")).to_be_visible()


def test_uk_long_history_and_seller_coding(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    """A 120-day import asks first with its Xero cost; the mapping page's tracking and seller
    choices are saved and the bills post to each seller's contact."""
    sign_in(page, live, shots, ["uk"])
    connect_amazon(page, shots, "UK", "uk-thistle", allow=True)
    today = live.runtime.now().date()
    page.fill("#first", (today - timedelta(days=120)).isoformat())
    page.fill("#last", today.isoformat())
    page.click("#start-import")
    expect(page.locator("#import-estimate")).to_be_visible()
    shots.take("long-1-estimate")
    page.click("#confirm-import")
    expect(page.locator("#next")).to_be_enabled(timeout=60_000)
    page.click("#next")
    expect(page.locator("#tracking-rules")).to_be_visible()
    page.select_option("#f-tracking-0-category", "Region")
    page.select_option("#f-tracking-0-source", "legal_entity")
    page.fill("#f-tracking-0-default-option", "London")
    page.select_option("#f-sellers-contact", "per_seller")
    page.select_option("#f-sellers-flagged-tax-type", "NONE")
    # the card names neither brand nor digits, so it starts unmapped: map it to the card account
    page.select_option("#f-payment-methods-Visa-6604", "account:092")
    shots.take("long-2-sellers")
    page.click("#save-mapping")
    assert review_and_finish(page, shots) > 0
    bills = wait_for_bills(outside, live, "uk", at_least=1)
    state = outside.get(f"{live.runtime.settings.xero_api_url}/_sim/state").json()
    uk = next(org for org in state["organisations"] if org["key"] == "uk")
    names = {contact["ContactID"]: contact["Name"] for contact in uk["contacts"]}
    assert any(names[bill["Contact"]["ContactID"]] != "Amazon Business" for bill in bills)
    assert all(line.get("Tracking") for bill in bills for line in bill["LineItems"])
    # the manage page estimates a longer range from what was imported, then imports it
    page.fill("#first", (today - timedelta(days=200)).isoformat())
    page.fill("#last", today.isoformat())
    page.click("#estimate-import")
    expect(page.locator("#estimate-calls")).to_be_visible()
    shots.take("long-3-manage-estimate")
    page.click("#confirm-import")
    expect(page.locator("#import-result")).to_be_visible(timeout=60_000)
