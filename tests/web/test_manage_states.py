"""Queued, running, done and failed are told apart on the manage page, and "next sync" says
why when it is due (issue 20: the page said "Sync started…" while the work only waited)."""

from __future__ import annotations

import html
from datetime import timedelta

from abxero.store.db import transaction
from abxero.store.models import SyncRun, XeroConnection
from abxero.sync.engine import SyncReport
from abxero.sync.leases import release, try_acquire
from tests.web.conftest import Browser, set_up_organisation

CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


def _now_cell(page: str) -> str:
    return html.unescape(page.split('id="activity"')[1].split("</dd>")[0])


def _next_cell(page: str) -> str:
    return html.unescape(page.split('id="next-sync">')[1].split("</dd>")[0])


def _organisation(browser: Browser) -> int:
    browser.sign_in(["us"])
    return set_up_organisation(browser, "Demo Company (US)", "US", "us-bluebird", CARDS)


def test_a_sync_now_that_waits_is_shown_queued_not_started(browser: Browser) -> None:
    organisation = _organisation(browser)
    assert 'data-state="idle"' in _now_cell(browser.web.get(f"/orgs/{organisation}").text)
    assert "was done" in _now_cell(browser.web.get(f"/orgs/{organisation}").text)
    runtime = browser.runtime
    lease, ttl = f"sync:{organisation}", timedelta(minutes=1)
    assert try_acquire(runtime.sessions, lease, "another-worker", ttl, runtime.now)
    try:
        browser.post(f"/orgs/{organisation}/sync", {})
        page = browser.web.get(f"/orgs/{organisation}").text
    finally:
        release(runtime.sessions, lease, "another-worker")
    now = _now_cell(page)
    assert 'data-state="queued"' in now
    assert "Sync queued since" in now
    assert "waiting for a free worker" in now
    assert "another worker holds this organisation" in now
    assert "Sync queued ahead of background work" in html.unescape(page)
    assert "Sync started" not in page


def test_a_running_sync_shows_what_it_is_doing_and_its_counts(browser: Browser) -> None:
    organisation = _organisation(browser)
    pages: list[str] = []

    def look(report: SyncReport) -> None:
        pages.append(browser.web.get(f"/orgs/{organisation}").text)

    with transaction(browser.runtime.sessions) as session:  # read a long range again
        session.get_one(XeroConnection, organisation).last_sync_at = None
    end = browser.runtime.now()
    engine = browser.runtime.engine_for(organisation, progress=look)
    report = engine.import_range(end - timedelta(days=30), end)
    assert report.error == ""
    running = [_now_cell(page) for page in pages if 'data-state="running"' in page]
    assert running, "no page showed the run as running"
    assert "Import running since" in running[-1]
    assert "so far" in running[-1]
    assert any("reading from Amazon" in cell for cell in running)
    after = _now_cell(browser.web.get(f"/orgs/{organisation}").text)
    assert 'data-state="idle"' in after
    assert "the last import was done" in after


def test_next_sync_due_in_the_past_says_why(browser: Browser) -> None:
    organisation = _organisation(browser)
    runtime = browser.runtime
    with transaction(runtime.sessions) as session:
        session.get_one(XeroConnection, organisation).last_sync_at = runtime.now() - timedelta(
            hours=2
        )
    due = _next_cell(browser.web.get(f"/orgs/{organisation}").text)
    assert "due now; the scheduler queues it within a minute" in due
    with transaction(runtime.sessions) as session:
        finished = runtime.now()
        session.add(
            SyncRun(
                xero_connection_id=organisation,
                kind="sync",
                status="failed",
                error="Xero was down",
                started_at=finished,
                finished_at=finished,
            )
        )
    waiting = _next_cell(browser.web.get(f"/orgs/{organisation}").text)
    assert "after failed runs" in waiting
    assert "waiting until" in waiting
    assert "due now" not in waiting
