"""In Chromium: on the manage page, set who hears about problems. A bad address is refused
with its message and nothing changes; good values are saved and shown, with the signing secret;
without ABXERO_SMTP_URL the page says no email is sent."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from abxero.web.server import RunningApp
from tests.browser.conftest import Shots
from tests.browser.journey import (
    connect_amazon,
    import_history,
    map_accounts,
    review_and_finish,
    sign_in,
)

pytestmark = pytest.mark.browser
HOOK = "https://hooks.example.com/abxero"


def _save(page: Page, recipients: str, webhook: str) -> None:
    page.fill("#alert-recipients", recipients)
    page.fill("#alert-webhook", webhook)
    page.click("#save-alerts")


def test_alert_recipients_and_webhook_are_checked_saved_and_shown(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    assert live.runtime.settings.smtp_url is None
    sign_in(page, live, shots, ["uk"])
    connect_amazon(page, shots, "UK", "uk-thistle", allow=True)
    import_history(page, live, shots, days=3)
    map_accounts(page, shots, {})
    review_and_finish(page, shots)
    alerts = page.locator("#alerts")
    expect(alerts.locator("#email-off")).to_contain_text("ABXERO_SMTP_URL is unset")
    expect(alerts.locator("#webhook-secret")).to_have_count(0)

    _save(page, "books@example.com\nnot an address", HOOK)
    expect(page.locator(".flash-error")).to_contain_text(
        "Alerts not saved: 'not' is not an email address."
    )
    expect(page.locator("#alert-recipients")).to_have_value("")
    expect(page.locator("#alert-webhook")).to_have_value("")
    shots.take("11-alerts-refused")

    _save(page, "books@example.com, Owner@Example.com", HOOK)
    expect(page.locator(".flash")).to_contain_text("Alerts saved: 3 destinations.")
    expect(page.locator("#alert-recipients")).to_have_value("books@example.com\nOwner@Example.com")
    expect(page.locator("#alert-webhook")).to_have_value(HOOK)
    expect(page.locator("#webhook-secret code")).not_to_be_empty()
    expect(page.locator("#email-off")).to_be_visible()  # saved recipients change nothing there
    shots.take("12-alerts-saved")
    page.reload()
    expect(page.locator("#alert-webhook")).to_have_value(HOOK)
