"""The manage page runs the reconciliation check through the queue, shows the last result with
a badge per payment method and links to the detail; the export downloads as CSV and JSON."""

from __future__ import annotations

import csv
import io

import pytest

from abxero.domain import jsontext
from abxero.services.export import COLUMNS
from tests.web.conftest import Browser, set_up_organisation, sim_invoices

US = "Demo Company (US)"
CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


@pytest.fixture
def organisation(browser: Browser) -> int:
    browser.sign_in(["us"])
    return set_up_organisation(browser, US, "US", "us-bluebird", CARDS, days=10)


def test_check_now_shows_a_green_badge_per_payment_method(
    browser: Browser, organisation: int
) -> None:
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Not checked yet" in page
    answer = browser.post(f"/orgs/{organisation}/reconcile", page=f"/orgs/{organisation}")
    assert answer.status_code == 303
    page = browser.web.get(f"/orgs/{organisation}").text
    summary = page.split('id="reconciliation-summary"')[1].split("</p>")[0]
    assert "everything matches" in summary
    badges = page.split('id="reconciliation-badges"')[1].split("</ul>")[0]
    assert 'data-clean="yes"' in badges
    assert 'data-clean="no"' not in badges
    detail = browser.web.get(f"/orgs/{organisation}/reconciliation").text
    assert 'id="reconciliation-clean"' in detail


def test_a_deleted_bill_turns_the_badge_red_and_the_detail_links_to_it(
    browser: Browser, organisation: int
) -> None:
    target = sorted(sim_invoices(browser, "us"), key=lambda bill: str(bill["InvoiceID"]))[0]
    xero = browser.runtime.settings.xero_api_url.rsplit("/api.xro", 1)[0]
    tenants = browser.outside.post(f"{xero}/_sim/token", json={}).json()["tenants"]
    browser.outside.post(
        f"{xero}/_sim/orgs/{tenants['us']}/documents/{target['InvoiceID']}",
        json={"Status": "DELETED"},
    ).raise_for_status()
    browser.post(f"/orgs/{organisation}/reconcile", page=f"/orgs/{organisation}")
    page = browser.web.get(f"/orgs/{organisation}").text
    assert 'data-clean="no"' in page.split('id="reconciliation-badges"')[1].split("</ul>")[0]
    detail = browser.web.get(f"/orgs/{organisation}/reconciliation").text
    assert "difference-missing_in_xero" in detail
    assert f"InvoiceID={target['InvoiceID']}" in detail
    notices = browser.web.get(f"/orgs/{organisation}").text
    assert "Xero does not hold exactly what Amazon charged" in notices


def test_export_downloads_csv_and_json(browser: Browser, organisation: int) -> None:
    today = browser.runtime.now().date()
    query = {"since": str(today.replace(day=1).replace(year=today.year - 1)), "until": str(today)}
    as_csv = browser.web.get(f"/orgs/{organisation}/export", params={**query, "format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment;" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows
    assert tuple(rows[0]) == COLUMNS
    bills = {bill["InvoiceID"] for bill in sim_invoices(browser, "us")}
    assert {row["xero_id"] for row in rows if row["role"] == "bill"} == bills
    as_json = browser.web.get(f"/orgs/{organisation}/export", params={**query, "format": "json"})
    body = jsontext.loads(as_json.content)
    assert [list(row.values()) for row in body["rows"]] == [list(row.values()) for row in rows]
    again = browser.web.get(f"/orgs/{organisation}/export", params={**query, "format": "csv"})
    assert again.content == as_csv.content
