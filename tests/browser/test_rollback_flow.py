"""The rollback flow in Chromium: choose a period on the manage page, read the preview, confirm,
and the bills are voided in the Xero simulator."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from abxero.web.server import RunningApp
from tests.browser.conftest import Shots
from tests.browser.journey import (
    set_up_uk,
    sim_bills,
)

pytestmark = pytest.mark.browser


def test_rollback_preview_then_confirm(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    set_up_uk(page, live, outside, shots)
    live_bills = [b for b in sim_bills(outside, live, "uk") if b["Status"] not in {"VOIDED"}]
    assert live_bills
    today = live.runtime.now().date()
    page.fill("#rollback-first", (today - timedelta(days=30)).isoformat())
    page.fill("#rollback-last", today.isoformat())
    page.click("#preview-rollback", timeout=120_000)  # reads Xero at its pace, 60 calls a minute
    expect(page.locator("#rollback-intro")).to_be_visible(timeout=60_000)
    expect(page.locator("#rollback-counts")).to_contain_text("Bills and credit notes voided")
    shots.take("rollback-preview")
    assert sim_bills(outside, live, "uk") == [*sim_bills(outside, live, "uk")]  # nothing changed
    assert all(b["Status"] != "VOIDED" for b in sim_bills(outside, live, "uk"))
    page.click("#confirm-rollback", timeout=120_000)
    expect(page.locator("#rollback-done")).to_be_visible(timeout=60_000)
    shots.take("rollback-done")
    assert {b["Status"] for b in sim_bills(outside, live, "uk")} == {"VOIDED"}
    page.click("#back-to-manage")
    expect(page.locator("#rollback")).to_be_visible()
