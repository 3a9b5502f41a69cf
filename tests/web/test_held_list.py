"""Many transactions waiting: the manage page shows a few per reason from the tallies, says the
reasons are the last sync's, and the held list pages through all of them 200 at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from abxero.services import held_list
from abxero.store.models import SourceTransaction
from tests.web.conftest import Browser, set_up_organisation
from tests.web.test_honest_pages import CARDS, US, section

WAITING = held_list.REPLAN_LIMIT + 50
REASON = "No payment account is chosen for this card."


def hold_many(browser: Browser, organisation: int, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with browser.runtime.db.begin() as connection:
        connection.execute(
            insert(SourceTransaction),
            [
                {
                    "xero_connection_id": organisation,
                    "transaction_id": f"held-{number:04d}",
                    "raw": "{}",
                    "content_hash": "h",
                    "transaction_date": start + timedelta(hours=number),
                    "instrument_key": "Visa/9999",
                    "currency": "USD",
                    "amount": Decimal("1.50"),
                    "status": "held",
                    "reason_code": "unmapped_instrument",
                    "reason": REASON,
                    "remedy": "Choose an account for the card.",
                }
                for number in range(count)
            ],
        )


def test_many_waiting_are_counted_sampled_and_listed_page_by_page(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    hold_many(browser, organisation, WAITING)
    held = section(browser.web.get(f"/orgs/{organisation}").text, "held")
    assert 'id="held-stored"' in held
    assert f"<strong>{WAITING}</strong>" in held
    assert "375.00" in held  # 250 × 1.50, from the tallies
    assert held.count("2026") == held_list.SAMPLE
    link = f"/orgs/{organisation}/held?code=unmapped_instrument"
    assert f"All {WAITING} waiting for this reason" in held
    assert link in held

    first = browser.web.get(link).text
    assert f"{WAITING} transactions, page 1 of 2" in first
    assert len(re.findall(r"<li>\d", first)) == held_list.PAGE_SIZE
    assert 'rel="next"' in first
    assert 'rel="prev"' not in first
    second = browser.web.get(f"{link}&page=1").text
    assert len(re.findall(r"<li>\d", second)) == WAITING - held_list.PAGE_SIZE
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_the_held_list_of_another_organisation_is_not_found(browser: Browser) -> None:
    browser.sign_in(["us"])
    set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    assert browser.web.get("/orgs/999999/held?code=x").status_code == 404
