"""The Legal entities page over HTTP: Acme Robotics' three legal entities, one Amazon consent,
two of the user's Xero organisations; reached from the wizard and the manage page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from abxero.store.db import transaction
from abxero.store.models import OutboxDocument, SourceTransaction, XeroConnection
from abxero.web.serving import served
from abxero_sim import amazon, xero
from abxero_sim.xero.app import SECOND_USER
from abxero_sim.xero.tokens import SimUser
from tests.web.conftest import APP_URL, Browser, sim_invoices
from tests.web.test_grants import sign_in_as
from tests.web.web_support import AMAZON_SEED, XERO_SEED, Sims, csrf_of, form_fields

US = "Demo Company (US)"
US2 = "Demo Company (US) 2"
NY = "Acme Labs NY Corp."
FED_ONLY = SimUser(
    user_id="3c1d2e4f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    email="fed.only@example.com",
    given_name="Fay",
    family_name="Fed",
    organisations=("us2",),
)
ENTITIES = ["Acme Labs NY Corp.", "Acme Robotics Inc.", "Acme Robotics Texas LLC"]


@pytest.fixture(scope="module")
def sims() -> Iterator[Sims]:
    """The simulators with a second US demo company, so there are two US organisations."""
    with (
        served(
            xero.create_app(
                seed=XERO_SEED, organisation_copies=2, other_users=(SECOND_USER, FED_ONLY)
            )
        ) as xero_sim,
        served(amazon.create_app(AMAZON_SEED, admin=True)) as amazon_sim,
    ):
        yield Sims(xero_sim.url, amazon_sim.url)


@pytest.fixture
def orgs(browser: Browser) -> dict[str, int]:
    """Signed in to both US organisations; the first paired with Acme and 30 days imported."""
    browser.sign_in(["us", "us2"])
    ids = browser.organisation_ids()
    assert browser.connect_amazon(ids[US], "US", "us-acme").status_code == 303
    today = browser.runtime.now().date()
    page = f"/orgs/{ids[US]}/setup/import"
    first = (today - timedelta(days=30)).isoformat()
    started = browser.post(page, {"first": first, "last": today.isoformat()}, page)
    assert started.status_code == 303
    assert browser.post(f"{page}/continue", {}, page).status_code == 303
    return ids


def routing_form(browser: Browser, connection_id: int) -> dict[str, str]:
    page = browser.web.get(f"/orgs/{connection_id}/entities")
    assert page.status_code == 200
    return form_fields(page.text)


def route(browser: Browser, connection_id: int, entity: str, target: int) -> dict[str, str]:
    fields = routing_form(browser, connection_id)
    index = next(
        k[len("entity_") :] for k, v in fields.items() if k.startswith("entity_") and v == entity
    )
    fields[f"target_{index}"] = str(target)
    return fields


def map_and_finish(browser: Browser, connection_id: int) -> str:
    """Map every card to one account and finish; the review page as it was shown."""
    fields = form_fields(browser.web.get(f"/orgs/{connection_id}/setup/mapping").text)
    for name in fields:
        if name.startswith("payment_methods["):
            fields[name] = "account:093"
    saved = browser.web.post(f"/orgs/{connection_id}/setup/mapping", data=fields)
    assert saved.status_code == 303, saved.text
    review = f"/orgs/{connection_id}/setup/review"
    shown = browser.web.get(review).text
    finished = browser.post(f"/orgs/{connection_id}/setup/finish", {}, review)
    assert finished.headers["location"] == f"/orgs/{connection_id}"
    return shown


def test_the_page_lists_each_entity_with_the_users_organisations(
    browser: Browser, orgs: dict[str, int]
) -> None:
    page = browser.web.get(f"/orgs/{orgs[US]}/entities").text
    fields = form_fields(page)
    assert sorted(v for k, v in fields.items() if k.startswith("entity_")) == ENTITIES
    # default: every entity posts to the organisation being set up
    assert {v for k, v in fields.items() if k.startswith("target_")} == {str(orgs[US])}
    assert f'<option value="{orgs[US2]}"' in page
    assert re.search(r"Demo Company \(US\): 0 in Xero, \d+ waiting", page)


def test_routing_an_entity_moves_its_purchases_and_says_so(
    browser: Browser, orgs: dict[str, int]
) -> None:
    with browser.runtime.sessions() as session:
        ny = session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.xero_connection_id == orgs[US],
                SourceTransaction.legal_entity == NY,
            )
        ).all()
    assert ny
    saved = browser.web.post(
        f"/orgs/{orgs[US]}/entities", data=route(browser, orgs[US], NY, orgs[US2])
    )
    assert saved.status_code == 303
    page = browser.web.get(saved.headers["location"]).text
    assert f"{NY} now posts to {US2}; {len(ny)} waiting transactions moved there." in page
    fields = routing_form(browser, orgs[US])
    chosen = {
        fields[k]: fields[k.replace("entity_", "target_")]
        for k in fields
        if k.startswith("entity_")
    }
    assert chosen[NY] == str(orgs[US2])
    # the second organisation is fed by the first: its wizard needs no Amazon consent
    amazon_step = browser.web.get(f"/orgs/{orgs[US2]}/setup/amazon").text
    assert 'id="fed-by"' in amazon_step
    assert US in amazon_step
    assert 'id="fed-by"' in browser.web.get(f"/orgs/{orgs[US2]}/entities").text
    import_page = f"/orgs/{orgs[US2]}/setup/import"
    assert browser.web.get(import_page).status_code == 200
    assert browser.post(f"{import_page}/continue", {}, import_page).status_code == 303
    # both finish their setup; each posts its own entities, once
    map_and_finish(browser, orgs[US])
    assert f"posts the legal entities “{US}” routes to it" in map_and_finish(browser, orgs[US2])
    assert browser.post(f"/orgs/{orgs[US2]}/sync", {}, f"/orgs/{orgs[US2]}").status_code == 303
    assert sim_invoices(browser, "us2")
    with browser.runtime.sessions() as session:
        posted = {
            key: set(
                session.scalars(
                    select(OutboxDocument.transaction_id).where(
                        OutboxDocument.xero_connection_id == orgs[key],
                        OutboxDocument.status == "posted",
                    )
                )
            )
            for key in (US, US2)
        }
    assert posted[US2] == {row.transaction_id for row in ny}
    assert not posted[US] & posted[US2]
    manage_us = browser.web.get(f"/orgs/{orgs[US]}").text
    assert 'id="routed-count"' in manage_us
    assert 'id="legal-entities"' in manage_us
    manage_us2 = browser.web.get(f"/orgs/{orgs[US2]}").text
    assert 'id="fed-by"' in manage_us2
    assert 'id="sync-now"' in manage_us2
    # moving it back: what is in the second organisation's books stays there, and the page says so
    back = browser.web.post(
        f"/orgs/{orgs[US]}/entities", data=route(browser, orgs[US], NY, orgs[US])
    )
    text = browser.web.get(back.headers["location"]).text
    stayed = f"{NY} now posts to {US}; {len(posted[US2])} already sent to Xero stay in {US2}."
    assert stayed in text


def test_an_organisation_the_user_cannot_see_is_refused(
    browser: Browser, orgs: dict[str, int]
) -> None:
    with transaction(browser.runtime.sessions) as session:
        hidden = XeroConnection(
            tenant_id="someone-elses", tenant_name="Hidden Ltd", owner_user_id=browser.web_user()
        )
        session.add(hidden)
        session.flush()
        hidden_id = hidden.id
    for target in (hidden_id, hidden_id + 100):  # another's organisation, or none: same answer
        answer = browser.web.post(
            f"/orgs/{orgs[US]}/entities", data=route(browser, orgs[US], NY, target)
        )
        assert answer.status_code == 400
        assert "You can only route to organisations you can see in Xero." in answer.text
        assert "Hidden Ltd" not in answer.text
    with browser.runtime.sessions() as session:
        routed = session.scalars(
            select(SourceTransaction.routed_to).where(
                SourceTransaction.xero_connection_id == orgs[US]
            )
        ).all()
    assert set(routed) == {None}
    assert browser.web.get(f"/orgs/{hidden_id}/entities").status_code == 404


def test_the_page_is_reached_from_the_wizard_and_needs_the_csrf_token(
    browser: Browser, orgs: dict[str, int]
) -> None:
    fields = form_fields(browser.web.get(f"/orgs/{orgs[US]}/setup/mapping").text)
    for name in fields:
        if name.startswith("payment_methods["):
            fields[name] = "account:093"
    assert browser.web.post(f"/orgs/{orgs[US]}/setup/mapping", data=fields).status_code == 303
    review = browser.web.get(f"/orgs/{orgs[US]}/setup/review").text
    assert f'href="/orgs/{orgs[US]}/entities"' in review
    page = browser.web.get(f"/orgs/{orgs[US]}/entities").text
    assert f'href="/orgs/{orgs[US]}/setup/review"' in page  # Back returns to the wizard
    forged = route(browser, orgs[US], NY, orgs[US2])
    forged.pop("csrf_token")
    assert browser.web.post(f"/orgs/{orgs[US]}/entities", data=forged).status_code == 403


def test_a_user_who_sees_only_the_fed_organisation_is_not_told_the_other_name(
    browser: Browser, orgs: dict[str, int], web: TestClient
) -> None:
    saved = browser.web.post(
        f"/orgs/{orgs[US]}/entities", data=route(browser, orgs[US], NY, orgs[US2])
    )
    assert saved.status_code == 303
    with TestClient(web.app, base_url=APP_URL, follow_redirects=False) as second:
        sign_in_as(second, browser.outside, ["us2"], FED_ONLY.user_id)
        page = second.get(f"/orgs/{orgs[US2]}/entities").text
        assert "another Xero organisation of your business" in page
        assert US not in page.replace(US2, "")
        assert second.get(f"/orgs/{orgs[US]}/entities").status_code == 404
        fields = form_fields(browser.web.get(f"/orgs/{orgs[US]}/entities").text)
        fields["csrf_token"] = csrf_of(page)
        refused = second.post(f"/orgs/{orgs[US]}/entities", data=fields)
        assert refused.status_code == 404  # not theirs to route
