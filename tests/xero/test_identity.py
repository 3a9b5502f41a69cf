"""Sign in with Xero, tokens, rotation with grace, connections, revocation — over HTTP."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from abxero.xero import (
    DEFAULT_SCOPES,
    IdTokenError,
    NeedsReconnectError,
    TokenManager,
    XeroAuth,
    XeroTokens,
)
from abxero_sim.clock import ManualClock
from tests.xero.xero_support import BASE, REDIRECT


def consent(
    http: httpx.Client, url: str, decision: str = "allow", tenants: int | None = None
) -> dict[str, str]:
    """Open the consent page, tick organisations, press a button; the callback's query."""
    page = http.get(url.replace(BASE, ""))
    assert page.status_code == 200
    assert "Demo Company (UK)" in page.text
    assert "Demo Company (US)" in page.text
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    offered = re.findall(r'name="tenant" value="([^"]+)"', page.text)
    chosen = offered if tenants is None else offered[:tenants]
    form = [*fields.items(), *(("tenant", t) for t in chosen), ("decision", decision)]
    answer = http.post("/identity/connect/authorize", data=dict(form) | {"tenant": chosen})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(
    http: httpx.Client, auth: XeroAuth, tenants: int | None = None
) -> tuple[XeroTokens, Any]:
    request = auth.authorization_request(DEFAULT_SCOPES)
    callback = consent(http, request.url, tenants=tenants)
    assert callback["state"] == request.state
    return auth.exchange_code(callback["code"], request.code_verifier), request


def test_authorization_url_carries_state_pkce_and_scopes(auth: XeroAuth) -> None:
    request = auth.authorization_request(DEFAULT_SCOPES, state="abc")
    query = parse_qs(urlsplit(request.url).query)
    assert request.url.startswith(f"{BASE}/identity/connect/authorize?")
    assert query["state"] == ["abc"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"][0].split() == list(DEFAULT_SCOPES)
    assert request.code_verifier
    assert len(request.code_verifier) >= 43
    assert request.nonce
    assert query["nonce"] == [request.nonce]


def test_full_sign_in_gives_tokens_identity_and_chosen_connections(
    http: httpx.Client, auth: XeroAuth
) -> None:
    tokens, request = sign_in(http, auth, tenants=1)
    assert tokens.refresh_token
    assert tokens.id_token
    assert set(tokens.scope) == set(DEFAULT_SCOPES)
    claims = auth.verify_id_token(tokens.id_token, nonce=request.nonce)
    assert claims.email == "demo.user@example.com"
    assert (claims.given_name, claims.family_name) == ("Demo", "User")
    assert claims.xero_userid == claims.subject
    connections = auth.connections(tokens.access_token)
    assert [c.tenant_name for c in connections] == ["Demo Company (US)"]
    assert connections[0].tenant_type == "ORGANISATION"


def test_id_token_with_wrong_nonce_or_audience_is_rejected(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock
) -> None:
    tokens, _ = sign_in(http, auth)
    assert tokens.id_token
    with pytest.raises(IdTokenError):
        auth.verify_id_token(tokens.id_token, nonce="other")
    stranger = XeroAuth(http, "someone-else", "x", REDIRECT, identity_url=BASE, now=clock.now)
    with pytest.raises(IdTokenError):
        stranger.verify_id_token(tokens.id_token)
    clock.advance(600)
    with pytest.raises(IdTokenError):
        auth.verify_id_token(tokens.id_token)


def test_pkce_client_without_secret_needs_the_verifier(
    http: httpx.Client, clock: ManualClock
) -> None:
    public = XeroAuth(
        http, "abxero-sim-pkce", None, REDIRECT, login_url=BASE, identity_url=BASE, api_url=BASE
    )
    request = public.authorization_request(["offline_access", "accounting.settings.read"])
    callback = consent(http, request.url)
    with pytest.raises(NeedsReconnectError):
        public.exchange_code(callback["code"], "wrong-verifier-" + "x" * 40)
    request = public.authorization_request(["offline_access", "accounting.settings.read"])
    callback = consent(http, request.url)
    assert public.exchange_code(callback["code"], request.code_verifier).refresh_token


def test_codes_are_single_use(http: httpx.Client, auth: XeroAuth) -> None:
    request = auth.authorization_request(DEFAULT_SCOPES)
    callback = consent(http, request.url)
    auth.exchange_code(callback["code"], request.code_verifier)
    with pytest.raises(NeedsReconnectError):
        auth.exchange_code(callback["code"], request.code_verifier)


def test_deny_returns_access_denied(http: httpx.Client, auth: XeroAuth) -> None:
    request = auth.authorization_request(DEFAULT_SCOPES)
    callback = consent(http, request.url, decision="deny")
    assert callback == {"error": "access_denied", "state": request.state}


def test_unknown_redirect_uri_gets_an_error_page(http: httpx.Client) -> None:
    page = http.get(
        "/identity/connect/authorize",
        params={
            "response_type": "code",
            "client_id": "abxero-sim-client",
            "redirect_uri": "https://evil.example/cb",
            "scope": "openid",
            "state": "s",
        },
    )
    assert page.status_code == 400
    assert "redirect_uri" in page.text


def test_refresh_rotates_with_a_thirty_minute_grace(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock
) -> None:
    first, _ = sign_in(http, auth)
    assert first.refresh_token
    second = auth.refresh(first.refresh_token)
    assert second.refresh_token
    assert second.refresh_token != first.refresh_token
    clock.advance(29 * 60)
    assert auth.refresh(first.refresh_token).access_token  # lost response: retry within grace
    clock.advance(2 * 60)
    with pytest.raises(NeedsReconnectError):
        auth.refresh(first.refresh_token)
    third = auth.refresh(second.refresh_token)
    assert auth.connections(third.access_token)


def test_unused_refresh_token_expires_after_sixty_days(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock
) -> None:
    tokens, _ = sign_in(http, auth)
    clock.advance(61 * 86400)
    with pytest.raises(NeedsReconnectError):
        auth.refresh(str(tokens.refresh_token))


def test_access_token_expires_after_thirty_minutes(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock
) -> None:
    tokens, _ = sign_in(http, auth)
    clock.advance(1801)
    with pytest.raises(NeedsReconnectError):
        auth.connections(tokens.access_token)


def test_revocation_removes_connections(http: httpx.Client, auth: XeroAuth) -> None:
    tokens, _ = sign_in(http, auth)
    auth.revoke(str(tokens.refresh_token))
    with pytest.raises(NeedsReconnectError):
        auth.refresh(str(tokens.refresh_token))
    with pytest.raises(NeedsReconnectError):
        auth.connections(tokens.access_token)


def test_disconnecting_a_tenant_blocks_its_api_calls(http: httpx.Client, auth: XeroAuth) -> None:
    tokens, _ = sign_in(http, auth)
    connection = auth.connections(tokens.access_token)[0]
    headers = {
        "Authorization": f"Bearer {tokens.access_token}",
        "xero-tenant-id": connection.tenant_id,
    }
    assert http.get("/api.xro/2.0/Organisation", headers=headers).status_code == 200
    auth.disconnect(tokens.access_token, connection.connection_id)
    refused = http.get("/api.xro/2.0/Organisation", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["Detail"] == "AuthenticationUnsuccessful"
    assert len(auth.connections(tokens.access_token)) == 1


def test_token_manager_persists_before_use_under_the_lock(
    http: httpx.Client, auth: XeroAuth, clock: ManualClock
) -> None:
    tokens, _ = sign_in(http, auth)
    stored = {"tokens": tokens}
    events: list[str] = []

    @contextlib.contextmanager
    def lock() -> Iterator[None]:
        events.append("lock")
        yield
        events.append("unlock")

    def save(new: XeroTokens) -> None:
        events.append("save")
        stored["tokens"] = new

    manager = TokenManager(auth, lambda: stored["tokens"], save, lock=lock, now=clock.now)
    assert manager.access_token() == tokens.access_token
    clock.advance(1790)
    fresh = manager.access_token()
    assert fresh != tokens.access_token
    assert fresh == stored["tokens"].access_token
    assert events == ["lock", "save", "unlock"]
    assert auth.connections(fresh)


def test_discovery_and_jwks(http: httpx.Client) -> None:
    meta = http.get("/.well-known/openid-configuration").json()
    assert meta["token_endpoint"] == f"{BASE}/connect/token"
    keys = http.get(meta["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA"
    assert "d" not in keys[0]
