"""In Chromium: set up one US organisation with Acme Robotics' three legal entities, route one
entity to a second US organisation from the wizard, and open the second organisation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from abxero.web.server import RunningApp
from abxero.web.serving import served
from abxero_sim import amazon, xero
from abxero_sim.xero import tenant_id_for
from tests.browser.conftest import Shots
from tests.browser.journey import connect_amazon, import_history, map_accounts, wait_until_idle
from tests.web.web_support import AMAZON_SEED, XERO_SEED, Sims

pytestmark = pytest.mark.browser
NY = "Acme Labs NY Corp."


@pytest.fixture(scope="module")
def sims() -> Iterator[Sims]:
    """Simulators holding a second US demo company."""
    with (
        served(xero.create_app(seed=XERO_SEED, organisation_copies=2)) as xero_sim,
        served(amazon.create_app(AMAZON_SEED, admin=True)) as amazon_sim,
    ):
        yield Sims(xero_sim.url, amazon_sim.url)


def sign_in_to(page: Page, live: RunningApp, tenants: set[str]) -> None:
    page.goto(live.url + "/")
    page.click("#sign-in")
    page.wait_for_selector("input[name=tenant]")
    for key in ("us", "uk", "us2", "uk2"):
        box = page.locator(f"input[name=tenant][value='{tenant_id_for(XERO_SEED, key)}']")
        if box.count():
            box.set_checked(key in tenants)
    page.click("button[value=allow]")


def test_route_a_legal_entity_from_the_wizard(page: Page, live: RunningApp, shots: Shots) -> None:
    sign_in_to(page, live, {"us", "us2"})
    expect(page.locator("h1")).to_have_text("Choose an organisation")
    page.click('a.card-link:text-is("Demo Company (US)")')
    connect_amazon(page, shots, "US", "us-acme", allow=True)
    import_history(page, live, shots, days=15)
    map_accounts(page, shots, {})
    expect(page.locator("h1")).to_have_text("Review and finish")
    page.click("#route-entities")
    expect(page.locator("h1")).to_have_text("Legal entities")
    shots.take("11-entities")
    field = page.locator(f"input[value='{NY}']").get_attribute("name")
    assert field is not None
    page.select_option(f"#target-{field.removeprefix('entity_')}", label="Demo Company (US) 2")
    page.click("#save-routing")
    expect(page.locator("main")).to_contain_text(f"{NY} now posts to Demo Company (US) 2")
    shots.take("12-entities-saved")
    page.click("#routing-back")
    expect(page.locator("h1")).to_have_text("Review and finish")
    page.click("#finish")
    expect(page.locator("#routed-count")).to_be_visible()
    shots.take("13-manage-routed")
    wait_until_idle(live)
    page.goto(live.url + "/orgs")
    card = page.locator('a.card-link:text-is("Demo Company (US) 2")')
    fed = card.get_attribute("href")
    card.click()  # its setup starts at the import: it needs no Amazon consent of its own
    expect(page.locator("h1")).to_have_text("Import past purchases")
    page.goto(f"{live.url}{fed}/setup/amazon")
    expect(page.locator("#fed-by")).to_contain_text("Demo Company (US)")
    shots.take("14-fed-organisation")
    page.click("#continue-fed")
    expect(page.locator("h1")).to_have_text("Import past purchases")
