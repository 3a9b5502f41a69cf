"""The manage page's alerts form (CSRF, checked values, the email notice) and one journey: a
card abxero has not seen arrives, and the webhook set on the page is told, signed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from abxero.alerts import webhook
from abxero.jobs.tasks import Jobs
from tests.alerts.receivers import Hook, webhook_receiver
from tests.web.conftest import Browser, set_up_organisation
from tests.web.test_manage import CARDS, US, add_card_purchase


@pytest.fixture
def organisation(browser: Browser) -> int:
    browser.sign_in(["us"])
    return set_up_organisation(browser, US, "US", "us-bluebird", CARDS, days=10)


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_receiver() as receiver:
        yield receiver


def test_the_page_says_email_is_off_and_refuses_bad_values(
    browser: Browser, organisation: int
) -> None:
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "ABXERO_SMTP_URL is unset" in page
    assert "No open alerts." in page
    url = f"/orgs/{organisation}/alerts"
    forged = browser.web.post(url, data={"csrf_token": "forged", "recipients": "a@example.com"})
    assert forged.status_code == 403
    for values, said in (
        ({"recipients": "not an address"}, "is not an email address"),
        ({"webhook_url": "http://hooks.example.com/x"}, "must start with https://"),
        ({"stale_hours": "0"}, "1 to 336"),
    ):
        refused = browser.post(url, values, f"/orgs/{organisation}")
        assert refused.status_code == 303
        assert said in browser.web.get(f"/orgs/{organisation}").text
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "not an address" not in page.split('id="alert-recipients"')[1].split("</textarea>")[0]


def test_a_new_card_reaches_the_webhook_set_on_the_page(
    browser: Browser, organisation: int, jobs: Jobs, hook: Hook
) -> None:
    saved = browser.post(
        f"/orgs/{organisation}/alerts",
        {"recipients": "books@example.com", "webhook_url": hook.url, "stale_hours": "8"},
        f"/orgs/{organisation}",
    )
    assert saved.headers["location"] == f"/orgs/{organisation}#alerts"
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Alerts saved: 2 destinations." in page
    secret = re.search(r'id="webhook-secret">Signing secret: <code>([^<]+)</code>', page)
    assert secret is not None
    add_card_purchase(browser, "5151")
    browser.post(f"/orgs/{organisation}/sync", page=f"/orgs/{organisation}")
    jobs.alerts()
    jobs.alerts()
    kinds = [json.loads(body)["kind"] for _, body in hook.requests]
    assert kinds.count("payment_method_unmapped") == 1
    headers, body = next(item for item in hook.requests if b"payment_method_unmapped" in item[1])
    stamp = headers["x-abxero-timestamp"]
    assert webhook.verify(secret.group(1), stamp, body, headers["x-abxero-signature"], int(stamp))
    sent = json.loads(body)
    assert sent["url"].endswith(f"/orgs/{organisation}#payment-methods")
    assert "Visa/5151" in sent["detail"]
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "A new payment method is waiting to be mapped" in page
