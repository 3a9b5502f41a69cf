"""In Chromium: after the UK journey, check Xero against Amazon from the manage page, open the
detail, and download the export."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from abxero.services.export import COLUMNS
from abxero.web.server import RunningApp
from tests.browser.conftest import Shots
from tests.browser.journey import (
    reload_until_visible,
    set_up_uk,
)

pytestmark = pytest.mark.browser


def test_check_now_detail_and_export_download(
    page: Page, live: RunningApp, outside: httpx.Client, shots: Shots
) -> None:
    set_up_uk(page, live, outside, shots)
    page.reload()
    expect(page.locator("#reconciliation")).to_contain_text("Not checked yet")
    page.click("#reconcile-now")
    reload_until_visible(page, "#reconciliation-badges .badge-ok")
    expect(page.locator("#reconciliation-badges .badge-bad")).to_have_count(0)
    expect(page.locator("#reconciliation-summary")).to_contain_text("everything matches")
    shots.take("8-reconciled")
    page.click("#reconciliation-detail")
    expect(page.locator("#reconciliation-clean")).to_be_visible()
    expect(page.locator("#reconciliation-lines tbody tr").first).to_contain_text("OK")
    page.go_back()
    with page.expect_download() as download:
        page.click("#export-download")
    path = download.value.path()
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert "go.xero.com/organisationlogin" in text
