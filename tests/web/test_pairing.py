"""One Amazon Business account pairs with one Xero organisation, however the feed is paged;
the refusal never names another tenant's organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from abxero.services.amazon_link import connect_amazon
from abxero.services.connections import AlreadyPaired, record_sign_in
from abxero.store.models import AmazonConnection, XeroConnection
from abxero.xero import IdentityClaims, XeroTokens
from abxero.xero import TenantGrant as Grant
from tests.web.conftest import APP_URL, Browser
from tests.web.web_support import amazon_consent, csrf_of, path_of, xero_consent

US = "Demo Company (US)"
UK = "Demo Company (UK)"


def sim_faults(browser: Browser, **faults: object) -> None:
    url = f"{browser.runtime.settings.amazon_token_url.removesuffix('/auth/o2/token')}/_sim/faults"
    browser.outside.post(url, json=faults).raise_for_status()


def sim_code(browser: Browser, business_id: str) -> str:
    base = browser.runtime.settings.amazon_token_url.removesuffix("/auth/o2/token")
    answer = browser.outside.post(
        f"{base}/_sim/code",
        json={
            "business_id": business_id,
            "redirect_uri": browser.runtime.settings.amazon_redirect_uri,
        },
    )
    answer.raise_for_status()
    code: str = answer.json()["code"]
    return code


def add_entity_records(browser: Browser, business_id: str) -> None:
    """Recent records of two legal entities (and payers): six of one, then three of the other."""
    amazon = browser.runtime.settings.amazon_api_url_na
    listed = browser.outside.get(
        f"{amazon}/_sim/transactions", params={"business_id": business_id, "count": 1}
    ).json()
    template = dict(listed["transactions"][0] if isinstance(listed, dict) else listed[0])
    now = browser.runtime.now()
    records = []
    for index in range(9):
        entity, payer = ("East Ltd", "P-EAST") if index < 6 else ("West Ltd", "P-WEST")
        when = now - timedelta(days=20) + timedelta(hours=index)
        records.append(
            {
                **template,
                "transactionId": f"ENTITY{index}",
                "legalEntityName": entity,
                "payer": {"id": payer, "name": entity},
                "buyer": {"id": payer, "name": entity},
                "feedDate": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "transactionDate": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }
        )
    answer = browser.outside.post(
        f"{amazon}/_sim/transactions", json={"business_id": business_id, "transactions": records}
    )
    assert answer.status_code == 200, answer.text


def pairings(browser: Browser) -> int:
    with browser.runtime.sessions() as session:
        return session.query(AmazonConnection).count()


def test_a_small_page_size_does_not_let_one_account_pair_twice(browser: Browser) -> None:
    browser.sign_in(["us", "uk"])
    ids = browser.organisation_ids()
    add_entity_records(browser, "us-acme")
    sim_faults(browser, page_size=1)
    assert browser.connect_amazon(ids[US], "US", "us-acme").status_code == 303
    sim_faults(browser, clear=True)
    page = browser.connect_amazon(ids[UK], "US", "us-acme")
    assert page.status_code == 400
    assert "already connected" in page.text
    assert pairings(browser) == 1


def test_the_refusal_does_not_name_another_users_organisation(browser: Browser) -> None:
    browser.sign_in(["us"])
    mine = browser.organisation_ids()[US]
    other = Grant("conn-x", "tenant-of-someone-else", "ORGANISATION", "Their Books Ltd", None)
    claims = IdentityClaims("someone-else", "sub-2", "x@example.com", "Sam", "Other", {})
    tokens = XeroTokens("at", "rt", browser.runtime.now(), ("openid",))
    theirs_user = record_sign_in(browser.runtime, claims, tokens, [other])
    with browser.runtime.sessions() as session:
        theirs = session.query(XeroConnection).filter_by(tenant_id=other.tenant_id).one().id
    connect_amazon(browser.runtime, theirs, "US", sim_code(browser, "us-acme"), theirs_user)
    page = browser.connect_amazon(mine, "US", "us-acme")
    assert page.status_code == 400
    assert "already connected to another Xero organisation" in page.text
    assert "Their Books" not in page.text
    assert pairings(browser) == 1


def test_the_account_is_recognised_by_a_payer_id_alone(browser: Browser) -> None:
    """Keys come from the Customer ids of the Reconciliation model, not only entity names."""
    from abxero.services.amazon_link import account_keys

    first = account_keys("US", [{"legalEntityName": "A Ltd", "payer": {"id": "amzn1.account.X"}}])
    second = account_keys("US", [{"legalEntityName": "B Ltd", "buyer": {"id": "amzn1.account.X"}}])
    assert {key.split(":")[1] for key in first} == {"entity", "payer"}
    assert not first & second  # a payer and a buyer id are different roles
    renamed = account_keys("US", [{"legalEntityName": "Other", "payer": {"id": "amzn1.account.X"}}])
    assert first & renamed


def test_a_refused_pairing_is_refused_at_the_service_too(browser: Browser) -> None:
    browser.sign_in(["us", "uk"])
    ids = browser.organisation_ids()
    assert browser.connect_amazon(ids[US], "US", "us-acme").status_code == 303
    with pytest.raises(AlreadyPaired) as refused:
        connect_amazon(browser.runtime, ids[UK], "US", sim_code(browser, "us-acme"), None)
    assert "another Xero organisation" in str(refused.value)
    assert US not in str(refused.value)


def test_an_amazon_code_is_redeemed_only_by_the_session_that_asked_for_it(
    browser: Browser, web: TestClient
) -> None:
    """The callback's state is a nonce held in the asking session; another signed-in browser
    presenting the same code and state is refused, and the code stays usable by its owner."""
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    page = f"/orgs/{organisation}/setup/amazon"
    start = browser.post(page, {"region": "US"}, page)
    back = amazon_consent(browser.outside, start.headers["location"], "us-bluebird", True)
    with TestClient(web.app, base_url=APP_URL, follow_redirects=False) as other:
        token = csrf_of(other.get("/").text)
        other_start = other.post("/auth/xero/start", data={"csrf_token": token})
        other_back = xero_consent(browser.outside, other_start.headers["location"], ["us"], True)
        assert other.get(path_of(other_back)).status_code == 303
        stolen = other.get(path_of(back))
        assert stolen.status_code == 400
        assert "Nothing was connected" in stolen.text
    assert pairings(browser) == 0
    assert browser.web.get(path_of(back)).status_code == 303
    assert pairings(browser) == 1


def test_an_old_amazon_consent_is_refused(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    page = f"/orgs/{organisation}/setup/amazon"
    start = browser.post(page, {"region": "US"}, page)
    back = amazon_consent(browser.outside, start.headers["location"], "us-bluebird", True)
    started = browser.runtime.now()
    browser.runtime.now = lambda: started + timedelta(minutes=11)  # type: ignore[method-assign]
    assert browser.web.get(path_of(back)).status_code == 400
    assert pairings(browser) == 0
