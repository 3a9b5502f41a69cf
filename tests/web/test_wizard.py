"""The setup wizard over HTTP: Amazon consent, import, mapping, review and finish."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.web.conftest import Browser, set_up_organisation, sim_invoices
from tests.web.web_support import form_fields, path_of, query_of

US = "Demo Company (US)"
UK = "Demo Company (UK)"
THISTLE_CARD = {"Visa/6604": "account:092"}  # "Company Credit Card" names no brand or digits


@pytest.fixture
def us_org(browser: Browser) -> int:
    browser.sign_in(["us", "uk"])
    return browser.organisation_ids()[US]


def test_amazon_step_sends_the_user_to_the_regions_consent_page(
    browser: Browser, us_org: int
) -> None:
    page = f"/orgs/{us_org}/setup/amazon"
    shown = browser.web.get(page)
    assert "United States" in shown.text
    assert "United Kingdom" in shown.text
    assert 'aria-current="step"' in shown.text
    start = browser.post(page, {"region": "US"}, page)
    query = query_of(start.headers["location"])
    assert start.headers["location"].startswith(browser.runtime.settings.amazon_consent_url_us)
    assert "/b2b/abws/oauth" in start.headers["location"]
    assert query["redirect_uri"].endswith("/amazon/callback")
    assert query["state"]
    assert browser.post(page, {"region": "DE"}, page).status_code == 400


def test_denied_amazon_consent_explains_and_offers_a_retry(browser: Browser, us_org: int) -> None:
    page = browser.connect_amazon(us_org, "US", "us-bluebird", allow=False)
    assert page.status_code == 400
    assert "cancelled or refused" in page.text
    assert f'href="/orgs/{us_org}/setup/amazon"' in page.text


def test_a_consent_without_data_access_is_shown_with_its_remedy(
    browser: Browser, us_org: int
) -> None:
    amazon = browser.runtime.settings.amazon_api_url_na
    browser.outside.post(f"{amazon}/_sim/faults", json={"queue": ["expired", "expired"]})
    page = browser.connect_amazon(us_org, "US", "us-bluebird")
    assert page.status_code == 400
    assert "no access to purchase data (403)" in page.text
    assert "administrator of all legal entities" in page.text


def test_an_amazon_account_paired_elsewhere_is_refused_with_the_reason(
    browser: Browser, us_org: int
) -> None:
    assert browser.connect_amazon(us_org, "US", "us-acme").status_code == 303
    other = browser.organisation_ids()[UK]
    page = browser.connect_amazon(other, "US", "us-acme")
    assert page.status_code == 400
    assert "already connected to the Xero organisation" in page.text
    assert US in page.text


def test_later_steps_wait_for_the_earlier_ones(browser: Browser, us_org: int) -> None:
    for step in ("import", "mapping", "review"):
        answer = browser.web.get(f"/orgs/{us_org}/setup/{step}")
        assert answer.headers["location"] == f"/orgs/{us_org}/setup/amazon"
    assert browser.web.get(f"/orgs/{us_org}").headers["location"].endswith("/setup/amazon")


def test_import_range_is_validated(browser: Browser, us_org: int) -> None:
    browser.connect_amazon(us_org, "US", "us-bluebird")
    page = f"/orgs/{us_org}/setup/import"
    today = browser.runtime.now().date()
    shown = browser.web.get(page).text
    assert f'value="{(today - timedelta(days=90)).isoformat()}"' in shown
    for first, last, message in (
        (today - timedelta(days=731), today, "at most 730 days"),
        (today, today - timedelta(days=1), "before the start"),
        (today, today + timedelta(days=1), "in the future"),
    ):
        answer = browser.post(page, {"first": first.isoformat(), "last": last.isoformat()}, page)
        assert answer.status_code == 400
        assert message in answer.text
    assert browser.post(page, {"first": "soon", "last": ""}, page).status_code == 400


def test_import_reports_progress_and_posts_nothing(browser: Browser, us_org: int) -> None:
    browser.connect_amazon(us_org, "US", "us-bluebird")
    page = f"/orgs/{us_org}/setup/import"
    today = browser.runtime.now().date()
    started = browser.post(
        page, {"first": (today - timedelta(days=20)).isoformat(), "last": today.isoformat()}, page
    )
    run_id = int(query_of(started.headers["location"])["run"])
    status = browser.web.get(f"/orgs/{us_org}/runs/{run_id}").json()
    assert status["finished"]
    assert status["status"] == "ok"
    assert status["progress"] == 100
    assert status["new"] == status["fetched"] > 0
    shown = browser.web.get(path_of(started.headers["location"])).text
    assert f"{status['fetched']} transactions read" in shown
    assert sim_invoices(browser, "us") == []


def test_mapping_preselects_defaults_and_lists_every_instrument(
    browser: Browser, us_org: int
) -> None:
    browser.connect_amazon(us_org, "US", "us-acme")
    page = f"/orgs/{us_org}/setup/import"
    today = browser.runtime.now().date()
    browser.post(
        page, {"first": (today - timedelta(days=7)).isoformat(), "last": today.isoformat()}, page
    )
    browser.post(f"{page}/continue", {}, page)
    shown = browser.web.get(f"/orgs/{us_org}/setup/mapping").text
    fields = form_fields(shown)
    assert fields["expenses.default_account"] == "628"  # General Expenses
    assert fields["payment_methods['Pay by Invoice']"] == "invoice"
    for label in ("Visa ending 4242", "American Express ending 1005", "Mastercard ending 5454"):
        assert label in shown
    assert re.search(r"\d+ transactions, [\d,]+\.\d\d USD", shown)
    assert "Old Office Supplies" not in shown  # archived
    assert 'value="400"' not in shown  # a revenue account


def test_mapping_problems_are_shown_next_to_their_entries(browser: Browser, us_org: int) -> None:
    browser.connect_amazon(us_org, "US", "us-bluebird")
    page = f"/orgs/{us_org}/setup/import"
    browser.post(f"{page}/continue", {}, page)
    fields = form_fields(browser.web.get(f"/orgs/{us_org}/setup/mapping").text)
    fields["expenses.default_account"] = "090"  # a bank account
    fields["expenses.rules[0].value"] = "535-office"
    fields["expenses.rules[0].match"] = "business_order_info"
    fields["expenses.rules[0].account"] = "628"
    answer = browser.web.post(f"/orgs/{us_org}/setup/mapping", data=fields)
    assert answer.status_code == 400
    assert "Business Order Info field, e.g. GL code" in answer.text
    fields["expenses.rules[0].label"] = "GL code"
    answer = browser.web.post(f"/orgs/{us_org}/setup/mapping", data=fields)
    assert answer.status_code == 400
    assert 'id="f-expenses-default-account-error"' in answer.text
    assert "not one for purchases" in answer.text


def test_review_previews_and_finish_posts(browser: Browser) -> None:
    browser.sign_in(["us", "uk"])
    organisation = browser.organisation_ids()[US]
    browser.connect_amazon(organisation, "US", "us-bluebird")
    page = f"/orgs/{organisation}/setup/import"
    today = browser.runtime.now().date()
    browser.post(
        page, {"first": (today - timedelta(days=10)).isoformat(), "last": today.isoformat()}, page
    )
    browser.post(f"{page}/continue", {}, page)
    fields = form_fields(browser.web.get(f"/orgs/{organisation}/setup/mapping").text)
    fields["payment_methods['Visa/0071']"] = "account:093"
    assert browser.web.post(f"/orgs/{organisation}/setup/mapping", data=fields).status_code == 303
    review = browser.web.get(f"/orgs/{organisation}/setup/review").text
    to_create = int(re.search(r'id="docs-to-create">(\d+)<', review).group(1))  # type: ignore[union-attr]
    held = int(re.search(r'id="held-count">(\d+)<', review).group(1))  # type: ignore[union-attr]
    assert to_create > 0
    assert held > 0
    assert "payment method" in review.lower()
    assert sim_invoices(browser, "us") == []
    browser.post(f"/orgs/{organisation}/setup/finish", {}, f"/orgs/{organisation}/setup/review")
    bills = sim_invoices(browser, "us")
    assert bills
    assert all(bill["Status"] in ("AUTHORISED", "PAID") for bill in bills)


def test_uk_journey_posts_vat_bills(browser: Browser) -> None:
    browser.sign_in(["uk"])
    set_up_organisation(browser, UK, "UK", "uk-thistle", THISTLE_CARD, days=10)
    bills = sim_invoices(browser, "uk")
    assert bills
    assert all(bill["CurrencyCode"] == "GBP" for bill in bills)
