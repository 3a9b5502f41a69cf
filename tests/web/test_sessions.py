"""Sessions live on the server: sign-out and disconnect end them, they have an absolute
lifetime, and the cookie carries nothing but a random id."""

from __future__ import annotations

import base64
from datetime import timedelta

from tests.web.conftest import Browser, set_up_organisation

COOKIE = "abxero_session"


def signed_in(browser: Browser) -> bool:
    answer = browser.web.get("/orgs")
    return not answer.headers.get("location", "").startswith("/?next=")


def replay(browser: Browser, cookie: str) -> None:
    browser.web.cookies.clear()
    browser.web.cookies.set(COOKIE, cookie, domain="127.0.0.1")


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()["Demo Company (US)"]
    assert browser.web.get(f"/orgs/{organisation}").status_code in (200, 303)
    copied = browser.web.cookies[COOKIE]
    browser.post("/auth/sign-out", {}, "/orgs")
    replay(browser, copied)
    answer = browser.web.get(f"/orgs/{organisation}/setup/amazon")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/?next=")


def test_disconnect_ends_the_sessions_of_the_organisations_users(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, "Demo Company (US)", "US", "us-bluebird", {})
    copied = browser.web.cookies[COOKIE]
    page = f"/orgs/{organisation}/disconnect"
    assert browser.post(page, {}, page).status_code == 303
    assert signed_in(browser)  # this browser stays signed in, with a new session
    replay(browser, copied)
    assert not signed_in(browser)


def test_a_session_ends_after_its_absolute_lifetime_even_when_in_use(browser: Browser) -> None:
    browser.sign_in(["us"])
    start = browser.runtime.now()
    for hours in range(0, 14):
        browser.runtime.now = lambda h=hours: start + timedelta(hours=h, minutes=1)  # type: ignore[method-assign]
        if hours < 12:
            assert signed_in(browser), f"signed out after {hours} hours of use"
    assert not signed_in(browser)  # 13 hours after sign-in: sign in again


def test_an_idle_session_ends(browser: Browser) -> None:
    browser.sign_in(["us"])
    start = browser.runtime.now()
    assert signed_in(browser)
    browser.runtime.now = lambda: start + timedelta(hours=3)  # type: ignore[method-assign]
    assert not signed_in(browser)


def test_the_cookie_holds_no_token_verifier_or_nonce(browser: Browser) -> None:
    browser.web.get("/")
    start = browser.post("/auth/xero/start")
    assert start.status_code == 303
    cookie = browser.web.cookies[COOKIE]
    decoded = base64.urlsafe_b64decode(cookie.split(".")[0] + "===")
    for secret in (b"csrf", b"verifier", b"nonce", b"state"):
        assert secret not in decoded
        assert secret.decode() not in cookie
    assert browser.csrf() not in cookie


def test_ended_sessions_are_purged(browser: Browser) -> None:
    from abxero.services.web_sessions import purge_expired
    from abxero.store.models import WebSession

    browser.sign_in(["us"])
    start = browser.runtime.now()
    with browser.runtime.sessions() as session:
        assert session.query(WebSession).count() >= 1
    assert purge_expired(browser.runtime.sessions, start + timedelta(hours=13)) >= 1
    with browser.runtime.sessions() as session:
        assert session.query(WebSession).count() == 0
