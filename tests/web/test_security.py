"""CSRF, OAuth state, open redirects, session rotation, headers, and who sees what."""

from __future__ import annotations

import pytest

from abxero.services.connections import record_sign_in
from abxero.store.models import EncryptedTokenSet
from abxero.store.tokens import read_token_set
from abxero.web.routes import auth, manage, wizard
from abxero.web.security import safe_next
from abxero.xero import IdentityClaims, XeroTokens
from abxero.xero import TenantGrant as Grant
from tests.web.conftest import Browser, set_up_organisation
from tests.web.web_support import path_of, query_of, xero_consent

POST_ROUTES = [
    "/auth/xero/start",
    "/auth/sign-out",
    "/orgs/{id}/setup/amazon",
    "/orgs/{id}/setup/import",
    "/orgs/{id}/setup/import/continue",
    "/orgs/{id}/setup/mapping",
    "/orgs/{id}/setup/finish",
    "/orgs/{id}/sync",
    "/orgs/{id}/retry",
    "/orgs/{id}/quarantine",
    "/orgs/{id}/payment-methods",
    "/orgs/{id}/import",
    "/orgs/{id}/mapping",
    "/orgs/{id}/disconnect",
]


@pytest.mark.parametrize("route", POST_ROUTES)
def test_every_form_is_refused_without_its_csrf_token(browser: Browser, route: str) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()["Demo Company (US)"]
    path = route.format(id=organisation)
    assert browser.web.post(path, data={"region": "US"}).status_code == 403
    assert browser.web.post(path, data={"csrf_token": "forged"}).status_code == 403
    assert browser.web.get("/orgs").status_code == 303  # still signed in, nothing changed


def test_the_route_list_covers_every_post_route() -> None:
    posts = {
        route.path.replace("{connection_id}", "{id}")
        for group in (auth.router, wizard.router, manage.router)
        for route in group.routes
        if "POST" in getattr(route, "methods", set())
    }
    assert posts == set(POST_ROUTES)


def test_xero_callback_with_a_wrong_state_is_refused(browser: Browser) -> None:
    start = browser.post("/auth/xero/start")
    back = xero_consent(browser.outside, start.headers["location"], ["us"], allow=True)
    code = query_of(back)["code"]
    page = browser.web.get(f"/auth/xero/callback?code={code}&state=not-the-one")
    assert page.status_code == 400
    assert "not valid" in page.text
    assert browser.web.get("/orgs").status_code == 303  # not signed in
    replay = browser.web.get(path_of(back))  # the pending request was used up
    assert replay.status_code == 400


def test_amazon_callback_with_a_wrong_state_is_refused(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()["Demo Company (US)"]
    page = f"/orgs/{organisation}/setup/amazon"
    browser.post(page, {"region": "US"}, page)
    answer = browser.web.get("/amazon/callback?code=whatever&state=forged")
    assert answer.status_code == 400
    assert "Nothing was connected" in answer.text


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil", "javascript:x"],
)
def test_sign_in_never_redirects_off_site(browser: Browser, target: str) -> None:
    start = browser.post("/auth/xero/start", {"next": target})
    back = xero_consent(browser.outside, start.headers["location"], ["us"], allow=True)
    assert browser.web.get(path_of(back)).headers["location"] == "/orgs"
    assert browser.web.get(f"/?next={target}").headers["location"] == "/orgs"


def test_safe_next_keeps_own_paths_only() -> None:
    assert safe_next("/orgs/3?run=1") == "/orgs/3?run=1"
    assert safe_next("//evil.example") == "/orgs"
    assert safe_next("/ok\r\nSet-Cookie: x") == "/orgs"
    assert safe_next("") == "/orgs"


def test_session_is_rotated_at_sign_in(browser: Browser) -> None:
    browser.web.get("/")
    before_cookie = browser.web.cookies.get("abxero_session")
    before_token = browser.csrf()
    browser.sign_in(["us"])
    after_cookie = browser.web.cookies.get("abxero_session")
    assert before_cookie
    assert after_cookie
    assert before_cookie != after_cookie
    assert browser.csrf("/orgs/1/setup/amazon") != before_token
    browser.web.cookies.set("abxero_session", before_cookie, domain="127.0.0.1")
    assert browser.web.get("/orgs").status_code == 303  # the old cookie is not signed in


def test_session_cookie_is_http_only_and_same_site_lax(browser: Browser) -> None:
    header = browser.web.get("/").headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "secure" not in header  # http public URL in these tests


def test_security_headers_on_every_page(browser: Browser) -> None:
    for path in ("/", "/orgs", "/no-such-page", "/static/app.css"):
        headers = browser.web.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert browser.web.get("/").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script(browser: Browser) -> None:
    browser.sign_in(["us"])
    for path in ("/", "/orgs", "/orgs/1/setup/amazon"):
        text = browser.web.get(path).text
        assert "<script>" not in text
        assert "onclick" not in text


def test_another_users_organisation_is_not_found(browser: Browser) -> None:
    browser.sign_in(["us"])
    other = Grant("conn-x", "tenant-of-someone-else", "ORGANISATION", "Their Books Ltd", None)
    claims = IdentityClaims("someone-else", "sub-2", "x@example.com", "Sam", "Other", {})
    tokens = XeroTokens("at", "rt", browser.runtime.now(), ("openid",))
    record_sign_in(browser.runtime, claims, tokens, [other])
    with browser.runtime.sessions() as session:
        from abxero.store.models import XeroConnection

        theirs = session.query(XeroConnection).filter_by(tenant_id=other.tenant_id).one().id
    for path in (f"/orgs/{theirs}", f"/orgs/{theirs}/setup/amazon", f"/orgs/{theirs}/runs/1"):
        mine = browser.web.get(path)
        missing = browser.web.get(path.replace(str(theirs), "9999"))
        assert mine.status_code == missing.status_code == 404
        assert "Their Books" not in mine.text
    refused = browser.post(f"/orgs/{theirs}/sync", page="/orgs")
    assert refused.status_code == 404


def test_tokens_never_appear_in_pages(browser: Browser) -> None:
    browser.sign_in(["us", "uk"])
    organisation = set_up_organisation(
        browser, "Demo Company (UK)", "UK", "uk-thistle", {"Visa/6604": "account:092"}, days=5
    )
    pages = [
        browser.web.get(path).text
        for path in (
            "/orgs",
            f"/orgs/{organisation}",
            f"/orgs/{organisation}/mapping",
            f"/orgs/{organisation}/setup/review",
        )
    ]
    secrets: list[str] = []
    with browser.runtime.sessions() as session:
        for row in session.query(EncryptedTokenSet).all():
            data = read_token_set(browser.runtime.cipher, row)
            secrets += [str(data[k]) for k in ("access_token", "refresh_token") if data.get(k)]
    assert len(secrets) >= 4
    cookies = " ".join(browser.web.cookies.values())
    for secret in secrets:
        assert all(secret not in page for page in pages)
        assert secret not in cookies
