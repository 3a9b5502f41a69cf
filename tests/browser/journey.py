"""The steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from abxero.web.server import RunningApp
from abxero_sim.xero import tenant_id_for
from tests.browser.conftest import Shots
from tests.web.web_support import XERO_SEED


def sign_in(page: Page, live: RunningApp, shots: Shots, tenants: list[str]) -> None:
    page.goto(live.url + "/")
    shots.take("1-sign-in")
    page.click("#sign-in")
    page.wait_for_selector("input[name=tenant]")
    for key in ("us", "uk"):
        box = page.locator(f"input[name=tenant][value='{tenant_id_for(XERO_SEED, key)}']")
        box.set_checked(key in tenants)
    shots.take("2-xero-consent")
    page.click("button[value=allow]")


def connect_amazon(page: Page, shots: Shots, region: str, business_id: str, allow: bool) -> None:
    expect(page.locator("h1")).to_have_text("Connect Amazon Business")
    page.check(f"#region-{region}")
    shots.take("3-amazon-region")
    page.click("#connect-amazon")
    page.check(f"input[name=business_id][value='{business_id}']")
    shots.take("4-amazon-consent")
    page.click("#allow" if allow else "#deny")


def import_history(page: Page, live: RunningApp, shots: Shots, days: int) -> None:
    expect(page.locator("h1")).to_have_text("Import past purchases")
    today = live.runtime.now().date()
    page.fill("#first", (today - timedelta(days=days)).isoformat())
    page.fill("#last", today.isoformat())
    shots.take("5-import-range")
    page.click("#start-import")
    expect(page.locator("#import-bar")).to_be_visible()
    shots.take("6-import-progress")
    expect(page.locator("#next")).to_be_enabled(timeout=60_000)
    expect(page.locator("#import-status")).to_contain_text("transactions read")
    shots.take("7-import-done")
    page.click("#next")


def map_accounts(page: Page, shots: Shots, cards: dict[str, str]) -> None:
    expect(page.locator("h1")).to_have_text("Map Amazon Business to your accounts")
    for select_id, choice in cards.items():
        page.select_option(f"#{select_id}", choice)
    shots.take("8-mapping")
    page.click("#save-mapping")


def review_and_finish(page: Page, shots: Shots) -> int:
    expect(page.locator("h1")).to_have_text("Review and finish")
    to_create = int(page.inner_text("#docs-to-create"))
    shots.take("9-review")
    page.click("#finish")
    expect(page.locator("#health")).to_be_visible()
    shots.take("10-manage")
    return to_create


def sim_bills(outside: httpx.Client, live: RunningApp, key: str) -> list[dict[str, Any]]:
    state = outside.get(f"{live.runtime.settings.xero_api_url}/_sim/state").json()
    found = next(org for org in state["organisations"] if org["key"] == key)
    return [item for item in found["invoices"] if item.get("Type") == "ACCPAY"]


def wait_for_bills(
    outside: httpx.Client, live: RunningApp, key: str, at_least: int, seconds: float = 60
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        bills = sim_bills(outside, live, key)
        if len(bills) >= at_least or time.monotonic() > deadline:
            return bills
        time.sleep(0.3)


def wait_until_idle(live: RunningApp, seconds: float = 60) -> None:
    """Until no sync or import of any organisation is queued or running."""
    from abxero.store.models import SyncRun

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with live.runtime.sessions() as session:
            busy = session.query(SyncRun).filter(SyncRun.status.in_(("queued", "running"))).count()
        if not busy:
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not finish")


def reload_until_visible(page: Page, selector: str, seconds: float = 30) -> None:
    """Reload the page until the worker's result shows up on it."""
    deadline = time.monotonic() + seconds
    while not page.locator(selector).count():
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} did not appear")
        time.sleep(0.5)
        page.reload()


def set_up_uk(page: Page, live: RunningApp, outside: httpx.Client, shots: Shots) -> None:
    """The UK journey with ten days of history and the suggested mapping, its card (which names
    no brand or digits, so starts unmapped) on the card account, finished; returns once its
    bills are in Xero and the queue is idle."""
    sign_in(page, live, shots, ["uk"])
    connect_amazon(page, shots, "UK", "uk-thistle", allow=True)
    import_history(page, live, shots, days=10)
    map_accounts(page, shots, {"f-payment-methods-Visa-6604": "account:092"})
    assert review_and_finish(page, shots) > 0
    assert wait_for_bills(outside, live, "uk", at_least=1)
    wait_until_idle(live)
