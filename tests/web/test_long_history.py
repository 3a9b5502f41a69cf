"""Longer history over HTTP: a range beyond 90 days (up to two years) shows its Xero calls and
duration before it starts, in the wizard and on the manage page, and starts once confirmed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from abxero.store.db import transaction
from abxero.store.models import SourceTransaction, SyncRun, XeroConnection
from tests.web.conftest import Browser, set_up_organisation
from tests.web.web_support import query_of

US = "Demo Company (US)"
CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


def _runs(browser: Browser, organisation: int) -> int:
    with browser.runtime.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    SyncRun.xero_connection_id == organisation, SyncRun.kind == "import"
                )
            )
            or 0
        )


def test_the_wizard_shows_the_xero_cost_and_asks_before_a_year_long_import(
    browser: Browser,
) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    browser.connect_amazon(organisation, "US", "us-bluebird")
    page = f"/orgs/{organisation}/setup/import"
    today = browser.runtime.now().date()
    shown = browser.web.get(page).text
    assert 'id="import-estimate"' in shown
    assert "Every 100 purchases take about" in shown  # nothing imported yet
    assert f'min="{(today - timedelta(days=730)).isoformat()}"' in shown

    short = {"first": (today - timedelta(days=14)).isoformat(), "last": today.isoformat()}
    started = browser.post(page, short, page)
    assert started.status_code == 303  # 90 days or less starts at once
    year = {"first": (today - timedelta(days=365)).isoformat(), "last": today.isoformat()}
    runs = _runs(browser, organisation)
    asked = browser.post(page, year, page)
    assert asked.status_code == 200
    assert _runs(browser, organisation) == runs  # nothing started yet
    calls = re.search(r'id="estimate-calls">(\d+)<', asked.text)
    transactions = re.search(r'id="estimate-transactions">(\d+)<', asked.text)
    assert calls
    assert transactions
    assert int(transactions.group(1)) > 0
    assert int(calls.group(1)) > int(transactions.group(1)) // 50
    assert 'id="estimate-duration"' in asked.text
    assert 'id="confirm-import"' in asked.text
    confirmed = browser.post(page, {**year, "confirm": "yes"}, page)
    assert confirmed.status_code == 303
    assert "run=" in confirmed.headers["location"]
    assert _runs(browser, organisation) == runs + 1
    run = int(query_of(confirmed.headers["location"])["run"])
    status = browser.web.get(f"/orgs/{organisation}/runs/{run}").json()
    assert status["finished"]
    assert status["windows_left"] == 0
    assert status["windows_done"] >= 12  # a year in thirty-day windows


def test_estimate_only_starts_nothing(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    browser.connect_amazon(organisation, "US", "us-bluebird")
    page = f"/orgs/{organisation}/setup/import"
    today = browser.runtime.now().date()
    chosen = {"first": (today - timedelta(days=30)).isoformat(), "last": today.isoformat()}
    answer = browser.post(page, {**chosen, "action": "estimate"}, page)
    assert answer.status_code == 200
    assert 'id="import-estimate"' in answer.text
    assert _runs(browser, organisation) == 0


def test_the_manage_page_estimates_asks_and_shows_posting_progress(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS, days=10)
    manage = f"/orgs/{organisation}"
    today = browser.runtime.now().date()
    long_range = {"first": (today - timedelta(days=200)).isoformat(), "last": today.isoformat()}
    runs = _runs(browser, organisation)
    asked = browser.post(f"{manage}/import", long_range, manage)
    assert asked.status_code == 200
    assert re.search(r'id="estimate-calls">\d+<', asked.text)
    assert "a day so far" in asked.text
    assert _runs(browser, organisation) == runs
    with transaction(browser.runtime.sessions) as session:  # Xero's day limit was reached
        session.get_one(XeroConnection, organisation).parked_until = browser.runtime.now() + (
            timedelta(hours=3)
        )
    started = browser.post(f"{manage}/import", {**long_range, "confirm": "yes"}, manage)
    assert started.status_code == 303
    assert _runs(browser, organisation) == runs + 1
    with browser.runtime.sessions() as session:
        stored = session.scalar(
            select(func.count()).where(SourceTransaction.xero_connection_id == organisation)
        )
    assert stored
    page = browser.web.get(manage).text
    progress = re.search(r'id="posting-progress">(\d+) of (\d+) done, (\d+) left', page)
    assert progress, page
    done, total, left = (int(progress.group(n)) for n in (1, 2, 3))
    assert done > 0
    assert left > 0
    assert done + left == total
    assert "after the pause for Xero's daily limit" in page
    too_far = {"first": (today - timedelta(days=800)).isoformat(), "last": today.isoformat()}
    refused = browser.post(f"{manage}/import", too_far, manage)
    assert refused.status_code == 303
    assert "at most 730 days" in browser.web.get(manage).text
