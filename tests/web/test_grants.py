"""Which Xero grant an organisation syncs with, and what happens to the ones it no longer uses;
two real users signing in through the simulator's consent page see only their own."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from abxero.store.models import EncryptedTokenSet, User, XeroConnection
from abxero.store.tokens import read_token_set
from abxero_sim.xero.app import SECOND_USER
from tests.web.conftest import APP_URL, Browser, set_up_organisation
from tests.web.web_support import csrf_of, path_of, xero_consent

US = "Demo Company (US)"
UK = "Demo Company (UK)"


def xero_token_sets(browser: Browser) -> list[dict[str, object]]:
    with browser.runtime.sessions() as session:
        rows = session.query(EncryptedTokenSet).filter_by(provider="xero").all()
        return [read_token_set(browser.runtime.cipher, row) for row in rows]


def refresh_works(browser: Browser, refresh_token: str) -> bool:
    settings = browser.runtime.settings
    answer = httpx.post(
        f"{settings.xero_identity_url}/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(settings.xero_client_id, settings.xero_client_secret.get_secret_value()),
    )
    return answer.status_code == 200


def sign_in_as(
    web: TestClient, outside: httpx.Client, tenants: list[str], user: str | None
) -> None:
    token = csrf_of(web.get("/", follow_redirects=True).text)
    start = web.post("/auth/xero/start", data={"csrf_token": token})
    back = xero_consent(outside, start.headers["location"], tenants, True, user)
    assert web.get(path_of(back)).status_code == 303


def test_signing_in_again_keeps_one_grant_and_drops_the_old_one(browser: Browser) -> None:
    browser.sign_in(["us"])
    first = xero_token_sets(browser)
    assert len(first) == 1
    browser.post("/auth/sign-out", {}, "/orgs")
    browser.sign_in(["us"])
    now_stored = xero_token_sets(browser)
    assert len(now_stored) == 1
    assert now_stored[0]["refresh_token"] != first[0]["refresh_token"]


def test_disconnect_deletes_and_revokes_the_grant(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", {})
    (grant,) = xero_token_sets(browser)
    page = f"/orgs/{organisation}/disconnect"
    assert browser.post(page, {}, page).status_code == 303
    assert xero_token_sets(browser) == []
    assert not refresh_works(browser, str(grant["refresh_token"]))


def test_another_users_sign_in_does_not_switch_the_sync_grant(
    browser: Browser, web: TestClient
) -> None:
    browser.sign_in(["us", "uk"])
    uk = browser.organisation_ids()[UK]
    with browser.runtime.sessions() as session:
        before = session.get_one(XeroConnection, uk).token_set_id
    with TestClient(web.app, base_url=APP_URL, follow_redirects=False) as second:
        sign_in_as(second, browser.outside, ["uk"], SECOND_USER.user_id)
        page = second.get(f"/orgs/{uk}")
        assert page.status_code in (200, 303)
    with browser.runtime.sessions() as session:
        assert session.get_one(XeroConnection, uk).token_set_id == before
    assert len(xero_token_sets(browser)) == 1  # the second user's unused grant is not kept


def test_two_users_see_only_their_own_organisations_through_the_real_pages(
    browser: Browser, web: TestClient
) -> None:
    browser.sign_in(["us"])
    mine = browser.organisation_ids()[US]
    with TestClient(web.app, base_url=APP_URL, follow_redirects=False) as second:
        sign_in_as(second, browser.outside, ["uk"], SECOND_USER.user_id)
        listing = second.get("/orgs")
        assert listing.status_code == 303  # their one organisation
        theirs = int(listing.headers["location"].rsplit("/", 1)[1])
        assert theirs != mine
        for path in (f"/orgs/{mine}", f"/orgs/{mine}/setup/amazon", f"/orgs/{mine}/mapping"):
            assert second.get(path).status_code == 404
        assert US not in second.get(f"/orgs/{theirs}/setup/amazon").text
    assert browser.web.get(f"/orgs/{theirs}").status_code == 404


def test_the_second_user_cannot_consent_to_an_organisation_they_do_not_belong_to(
    browser: Browser,
) -> None:
    start = browser.post("/auth/xero/start")
    page = browser.outside.get(start.headers["location"] + f"&sim_user={SECOND_USER.user_id}")
    assert "second.user@example.com" in page.text
    assert US not in page.text


def test_the_manage_page_says_whose_sign_in_it_syncs_with(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", {})
    page = browser.web.get(f"/orgs/{organisation}").text
    assert "Syncing as Demo User" in page


def test_sync_as_me_instead_switches_the_grant_deliberately(
    browser: Browser, web: TestClient
) -> None:
    browser.sign_in(["us", "uk"])
    uk = browser.organisation_ids()[UK]
    with TestClient(web.app, base_url=APP_URL, follow_redirects=False) as second:
        sign_in_as(second, browser.outside, ["uk"], SECOND_USER.user_id)
        token = csrf_of(second.get(f"/orgs/{uk}/setup/amazon").text)
        start = second.post(
            "/auth/xero/start",
            data={"csrf_token": token, "take_over": str(uk), "next": f"/orgs/{uk}"},
        )
        back = xero_consent(
            browser.outside, start.headers["location"], ["uk"], True, SECOND_USER.user_id
        )
        assert second.get(path_of(back)).headers["location"] == f"/orgs/{uk}"
    with browser.runtime.sessions() as session:
        connection = session.get_one(XeroConnection, uk)
        owner = connection.owner_user_id
        us_grant = session.query(XeroConnection).filter(XeroConnection.id != uk).one().token_set_id
    with browser.runtime.sessions() as session:
        assert session.get_one(User, owner).email == SECOND_USER.email
    grants = xero_token_sets(browser)
    assert len(grants) == 2  # the first user's grant still serves the US organisation
    assert us_grant is not None
    assert all(refresh_works(browser, str(grant["refresh_token"])) for grant in grants)
