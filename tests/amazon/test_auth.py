"""Consent page, LWA token endpoint, and the client's code exchange and refresh."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from abxero.amazon import (
    AmazonApi,
    AmazonTokens,
    FatalError,
    LwaClient,
    NeedsReconnectError,
    TokenKeeper,
    consent_url,
    endpoints_for,
)
from abxero.amazon.transactions import TransactionFeed
from abxero_sim.amazon import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
)
from abxero_sim.clock import ManualClock
from tests.amazon.amazon_support import BASE_URL, START, Sleeps

REDIRECT = "http://127.0.0.1:8765/amazon/callback"


def lwa(http: httpx.Client, clock: ManualClock, secret: str = DEFAULT_CLIENT_SECRET) -> LwaClient:
    return LwaClient(
        http,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=secret,
        token_url=f"{BASE_URL}/auth/o2/token",
        now=clock.now,
    )


def consent(http: httpx.Client, decision: str, business_id: str = "uk-harbour") -> httpx.Response:
    endpoints = endpoints_for("UK", store_url=BASE_URL)
    url = consent_url(
        endpoints, application_id=DEFAULT_APPLICATION_ID, redirect_uri=REDIRECT, state="s-42"
    )
    page = http.get(url)
    assert page.status_code == 200
    assert 'id="allow"' in page.text
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    form = {**hidden, "business_id": business_id, "decision": decision}
    return http.post("/b2b/abws/oauth/consent", data=form, follow_redirects=False)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["s-42"]
    return query["code"][0]


def test_consent_urls_follow_the_region() -> None:
    us = endpoints_for("US")
    uk = endpoints_for("UK")
    assert (us.store_url, us.api_url) == (
        "https://www.amazon.com",
        "https://na.business-api.amazon.com",
    )
    assert (uk.store_url, uk.api_url) == (
        "https://www.amazon.co.uk",
        "https://eu.business-api.amazon.com",
    )
    url = consent_url(uk, application_id="amzn1.sp.solution.x", redirect_uri=REDIRECT, state="9")
    assert url.startswith("https://www.amazon.co.uk/b2b/abws/oauth?")
    assert parse_qs(urlsplit(url).query) == {
        "applicationId": ["amzn1.sp.solution.x"],
        "state": ["9"],
        "redirect_uri": [REDIRECT],
    }


def test_allow_redirects_with_a_code_that_exchanges_once(
    http: httpx.Client, clock: ManualClock
) -> None:
    code = code_from(consent(http, "allow"))
    tokens = lwa(http, clock).exchange_code(code, REDIRECT)
    assert tokens.access_token.startswith("Atza|")
    assert tokens.refresh_token.startswith("Atzr|")
    assert tokens.expires_at == START + timedelta(hours=1)
    with pytest.raises(NeedsReconnectError, match="already been used"):
        lwa(http, clock).exchange_code(code, REDIRECT)


def test_deny_redirects_with_access_denied(http: httpx.Client) -> None:
    response = consent(http, "deny")
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {
        "error": ["access_denied"],
        "error_description": ["The user denied the request."],
        "state": ["s-42"],
    }


@pytest.mark.parametrize(
    ("application_id", "redirect_uri", "message"),
    [
        ("amzn1.sp.solution.unknown", REDIRECT, "is not registered."),
        (DEFAULT_APPLICATION_ID, "https://evil.example/amazon/callback", "redirect URI"),
        (DEFAULT_APPLICATION_ID, "http://127.0.0.1:8765/other/callback", "redirect URI"),
    ],
)
def test_bad_consent_requests_get_an_error_page_not_a_redirect(
    http: httpx.Client, application_id: str, redirect_uri: str, message: str
) -> None:
    params = {"applicationId": application_id, "state": "1", "redirect_uri": redirect_uri}
    response = http.get("/b2b/abws/oauth", params=params, follow_redirects=False)
    assert response.status_code == 400
    assert "We cannot connect this account" in response.text
    assert message in response.text
    assert "location" not in response.headers


def test_a_region_app_lists_only_its_store(clock: ManualClock) -> None:
    from abxero_sim.amazon import create_app
    from tests.amazon.amazon_support import TestClient

    client = TestClient(create_app(1, clock=clock, region="US"), base_url=BASE_URL)
    params = {"applicationId": DEFAULT_APPLICATION_ID, "state": "1", "redirect_uri": REDIRECT}
    page = client.get("/b2b/abws/oauth", params=params).text
    assert "Acme Robotics" in page
    assert "Harbour Analytics" not in page


def test_exchange_with_another_redirect_uri_is_invalid_grant(
    http: httpx.Client, clock: ManualClock
) -> None:
    code = code_from(consent(http, "allow"))
    with pytest.raises(NeedsReconnectError, match="redirect_uri"):
        lwa(http, clock).exchange_code(code, "http://127.0.0.1:8765/amazon/other")


def test_expired_codes_and_bad_clients_are_refused(http: httpx.Client, clock: ManualClock) -> None:
    code = code_from(consent(http, "allow"))
    with pytest.raises(FatalError) as refused:
        lwa(http, clock, secret="wrong").exchange_code(code, REDIRECT)
    assert refused.value.code == "invalid_client"
    assert refused.value.status == 401
    clock.advance(301)
    with pytest.raises(NeedsReconnectError, match="expired"):
        lwa(http, clock).exchange_code(code, REDIRECT)


def test_unsupported_grants_and_missing_fields(http: httpx.Client) -> None:
    base = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    response = http.post("/auth/o2/token", data={**base, "grant_type": "password"})
    assert response.json()["error"] == "unsupported_grant_type"
    response = http.post("/auth/o2/token", data={**base, "grant_type": "refresh_token"})
    assert response.json()["error"] == "invalid_request"
    basic = http.post(
        "/auth/o2/token",
        data={"grant_type": "refresh_token", "refresh_token": "Atzr|unknown"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert basic.status_code == 400
    assert basic.json()["error"] == "invalid_grant"


def test_code_issued_by_the_admin_route_exchanges(http: httpx.Client, clock: ManualClock) -> None:
    issued = http.post("/_sim/code", json={"business_id": "us-acme", "redirect_uri": REDIRECT})
    tokens = lwa(http, clock).exchange_code(issued.json()["code"], REDIRECT)
    state = http.get("/_sim/state").json()
    assert {"business_id": "us-acme", "revoked": False} in state["consents"]
    assert tokens.refresh_token


def test_keeper_refreshes_before_expiry_and_persists_first(
    http: httpx.Client, clock: ManualClock, sleeps: Sleeps
) -> None:
    client = lwa(http, clock)
    tokens = client.exchange_code(code_from(consent(http, "allow")), REDIRECT)
    saved: list[AmazonTokens] = []

    def persist(new: AmazonTokens) -> None:
        assert keeper.tokens is tokens or keeper.tokens is saved[-1]  # not yet swapped in
        saved.append(new)

    keeper = TokenKeeper(client, tokens, on_refresh=persist, now=clock.now)
    assert keeper.access_token() == tokens.access_token
    assert saved == []
    clock.advance(3600 - 30)
    fresh = keeper.access_token()
    assert fresh != tokens.access_token
    assert saved[-1].access_token == fresh
    assert saved[-1].refresh_token == tokens.refresh_token
    feed = TransactionFeed(AmazonApi(http, BASE_URL, keeper, sleep=sleeps))
    assert list(feed.pages(START - timedelta(days=2), START))


def test_an_api_403_after_expiry_refreshes_once(
    http: httpx.Client, clock: ManualClock, sleeps: Sleeps
) -> None:
    client = lwa(http, clock)
    tokens = client.exchange_code(code_from(consent(http, "allow")), REDIRECT)
    saved: list[AmazonTokens] = []
    keeper = TokenKeeper(client, tokens, on_refresh=saved.append, now=clock.now)
    http.post("/_sim/expire-tokens")
    feed = TransactionFeed(AmazonApi(http, BASE_URL, keeper, sleep=sleeps))
    pages = list(feed.pages(START - timedelta(days=1), START))
    assert pages
    assert len(saved) == 1


def test_revoked_consent_needs_reconnect(
    http: httpx.Client, clock: ManualClock, sleeps: Sleeps
) -> None:
    client = lwa(http, clock)
    tokens = client.exchange_code(code_from(consent(http, "allow")), REDIRECT)
    keeper = TokenKeeper(client, tokens, on_refresh=lambda new: None, now=clock.now)
    assert http.post("/_sim/revoke", json={"business_id": "uk-harbour"}).json() == {"revoked": 1}
    feed = TransactionFeed(AmazonApi(http, BASE_URL, keeper, sleep=sleeps))
    with pytest.raises(NeedsReconnectError) as stopped:
        list(feed.pages(START - timedelta(days=1), START))
    assert stopped.value.code == "invalid_grant"
    with pytest.raises(NeedsReconnectError):
        client.refresh(tokens.refresh_token)


def test_a_rotated_refresh_token_is_refused_and_a_keeper_uses_the_stored_newer_set(
    http: httpx.Client, clock: ManualClock
) -> None:
    """With ``rotate_refresh_tokens`` the simulator answers a refresh with a new refresh token
    and refuses the old one (``invalid_grant``), while access tokens already issued keep
    working. A keeper given ``reload`` takes a newer stored set instead of refreshing again."""
    client = lwa(http, clock)
    tokens = client.exchange_code(code_from(consent(http, "allow")), REDIRECT)
    assert http.post("/_sim/faults", json={"rotate_refresh_tokens": True}).status_code == 200
    store = [tokens]
    first = TokenKeeper(
        client, tokens, on_refresh=store.append, now=clock.now, reload=lambda: store[-1]
    )
    late = TokenKeeper(
        client, tokens, on_refresh=store.append, now=clock.now, reload=lambda: store[-1]
    )
    fresh = first.refresh()
    assert store[-1].refresh_token != tokens.refresh_token
    with pytest.raises(NeedsReconnectError):
        client.refresh(tokens.refresh_token)
    assert late.refresh() == fresh  # the stored set, no second refresh
    assert len(store) == 2
    clock.advance(3600)
    assert late.access_token() not in (fresh, tokens.access_token)  # expired: refreshed anew
    assert len(store) == 3


@pytest.mark.parametrize("status", ["429", "500", "503"])
def test_token_endpoint_outages_are_retriable(
    http: httpx.Client, clock: ManualClock, status: str
) -> None:
    from abxero.amazon import RetriableError

    code = code_from(consent(http, "allow"))
    http.post("/_sim/faults", json={"token_queue": [status]})
    with pytest.raises(RetriableError) as outage:
        lwa(http, clock).exchange_code(code, REDIRECT)
    assert outage.value.status == int(status)
    assert lwa(http, clock).exchange_code(code, REDIRECT).access_token
