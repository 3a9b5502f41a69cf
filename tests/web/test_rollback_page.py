"""The manage page's rollback flow over HTTP: CSRF on both forms, a preview that changes
nothing, a confirmation that removes, and another organisation's rollback never shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abxero.store.db import transaction
from abxero.store.models import Rollback
from abxero.web.routes import rollback_page
from tests.web.conftest import Browser, set_up_organisation, sim_invoices

US_CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


def test_both_rollback_forms_are_refused_without_their_csrf_token(browser: Browser) -> None:
    posts = {
        route.path
        for route in rollback_page.router.routes
        if "POST" in getattr(route, "methods", set())
    }
    assert posts == {
        "/orgs/{connection_id}/rollback",
        "/orgs/{connection_id}/rollbacks/{rollback_id}/confirm",
    }
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()["Demo Company (US)"]
    for path in (f"/orgs/{organisation}/rollback", f"/orgs/{organisation}/rollbacks/1/confirm"):
        assert browser.web.post(path, data={"first": "2026-01-01"}).status_code == 403
        assert browser.web.post(path, data={"csrf_token": "forged"}).status_code == 403


@pytest.mark.slow
def test_preview_changes_nothing_and_confirm_voids_the_bills(browser: Browser) -> None:
    browser.sign_in(["us", "uk"])
    organisation = set_up_organisation(
        browser, "Demo Company (US)", "US", "us-bluebird", US_CARDS, days=5
    )
    before = sim_invoices(browser, "us")
    assert before
    today = browser.runtime.now().date()
    period = {"first": (today - timedelta(days=10)).isoformat(), "last": today.isoformat()}
    bad = browser.post(f"/orgs/{organisation}/rollback", {"first": "x", "last": "y"})
    assert bad.status_code == 303
    assert "YYYY-MM-DD" in browser.web.get(f"/orgs/{organisation}").text
    previewed = browser.post(f"/orgs/{organisation}/rollback", period, f"/orgs/{organisation}")
    assert previewed.status_code == 303
    page = previewed.headers["location"]
    shown = browser.web.get(page)
    assert "Bills and credit notes voided" in shown.text
    assert 'id="confirm-rollback"' in shown.text
    assert sim_invoices(browser, "us") == before
    other = browser.organisation_ids()["Demo Company (UK)"]
    assert (
        browser.web.get(page.replace(f"/orgs/{organisation}/", f"/orgs/{other}/")).status_code
        == 404
    )
    rollback_id = int(page.rsplit("/", 1)[1])
    with transaction(browser.runtime.sessions) as session:  # as a worker killed mid-rollback
        session.get_one(Rollback, rollback_id).status = "running"
    manage_page = browser.web.get(f"/orgs/{organisation}").text
    assert 'id="rollback-waiting"' in manage_page
    assert f"/rollbacks/{rollback_id}" in manage_page
    confirmed = browser.post(f"{page}/confirm", {}, page)
    assert confirmed.status_code == 303
    assert 'id="rollback-done"' in browser.web.get(page).text
    assert {bill["Status"] for bill in sim_invoices(browser, "us")} <= {"VOIDED", "DELETED"}
    assert 'id="rollback-waiting"' not in browser.web.get(f"/orgs/{organisation}").text
