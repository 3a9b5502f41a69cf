"""The manage page shows a failed run: when, the cause, and what to do; a success clears it."""

from __future__ import annotations

import html

import pytest

from abxero.sync import failpoints
from tests.web.conftest import Browser, set_up_organisation

CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


def test_a_failed_run_is_shown_with_its_cause_and_remedy(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, "Demo Company (US)", "US", "us-bluebird", CARDS)
    healthy = browser.web.get(f"/orgs/{organisation}").text
    assert 'id="last-run-failed"' not in healthy
    last_success = healthy.split('id="last-sync">')[1].split("<")[0]

    monkeypatch.setenv(failpoints.ENVIRONMENT, "context_read:1:raise")
    failpoints.reset()
    report = browser.runtime.engine_for(organisation).sync()
    assert report.error

    page = html.unescape(browser.web.get(f"/orgs/{organisation}").text)
    assert page.split('id="last-sync">')[1].split("<")[0] == last_success
    failure = page.split('id="last-run-failed"')[1].split("</dd>")[0]
    assert "FailpointError: failpoint context_read reached" in failure
    assert "What to do:" in failure
    assert "nothing posts twice" in failure

    monkeypatch.delenv(failpoints.ENVIRONMENT)
    failpoints.reset()
    assert browser.runtime.engine_for(organisation).sync().error == ""
    assert 'id="last-run-failed"' not in browser.web.get(f"/orgs/{organisation}").text
