"""Signing in with Xero, choosing an organisation, and signing out."""

from __future__ import annotations

from tests.web.conftest import Browser
from tests.web.web_support import path_of, query_of, xero_consent


def test_home_offers_sign_in_with_xero(browser: Browser) -> None:
    page = browser.web.get("/")
    assert page.status_code == 200
    assert "Sign in with Xero" in page.text
    assert 'action="/auth/xero/start"' in page.text


def test_sign_in_asks_for_openid_and_accounting_scopes_with_pkce(browser: Browser) -> None:
    start = browser.post("/auth/xero/start")
    query = query_of(start.headers["location"])
    scopes = query["scope"].split()
    assert {"openid", "profile", "email", "offline_access", "accounting.invoices"} <= set(scopes)
    assert query["code_challenge_method"] == "S256"
    assert query["state"]
    assert query["nonce"]


def test_sign_in_with_two_organisations_lets_the_user_choose(browser: Browser) -> None:
    landed = browser.sign_in(["us", "uk"])
    assert landed.status_code == 303
    assert landed.headers["location"] == "/orgs"
    page = browser.web.get("/orgs")
    assert "Demo Company (US)" in page.text
    assert "Demo Company (UK)" in page.text


def test_sign_in_with_one_organisation_goes_straight_to_its_setup(browser: Browser) -> None:
    browser.sign_in(["uk"])
    chosen = browser.web.get("/orgs")
    assert chosen.status_code == 303
    organisation = browser.organisation_ids()["Demo Company (UK)"]
    assert chosen.headers["location"] == f"/orgs/{organisation}"
    assert browser.web.get(chosen.headers["location"]).headers["location"].endswith("/setup/amazon")


def test_denied_xero_consent_explains_and_offers_a_retry(browser: Browser) -> None:
    start = browser.post("/auth/xero/start")
    back = xero_consent(browser.outside, start.headers["location"], ["us"], allow=False)
    page = browser.web.get(path_of(back))
    assert page.status_code == 400
    assert "Sign-in cancelled" in page.text
    assert 'id="retry"' in page.text
    assert browser.web.get("/orgs").status_code == 303  # still signed out


def test_pages_need_a_signed_in_user_and_bring_them_back(browser: Browser) -> None:
    page = browser.web.get("/orgs/1/setup/mapping")
    assert page.status_code == 303
    assert page.headers["location"] == "/?next=%2Forgs%2F1%2Fsetup%2Fmapping"
    start = browser.post("/auth/xero/start", {"next": "/orgs/1/setup/mapping"})
    back = xero_consent(browser.outside, start.headers["location"], ["us"], allow=True)
    assert browser.web.get(path_of(back)).headers["location"] == "/orgs/1/setup/mapping"


def test_sign_out_ends_the_session(browser: Browser) -> None:
    browser.sign_in(["us"])
    signed_out = browser.post("/auth/sign-out", page="/orgs")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/"
    assert "You are signed out." in browser.web.get("/").text
    assert browser.web.get("/orgs").status_code == 303
