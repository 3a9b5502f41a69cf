"""Xero's identity service: authorize URL (state + PKCE), code exchange, refresh, revoke,
id_token verification and ``/connections``."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from abxero.xero.errors import IdTokenError, NeedsReconnectError, RejectedError, RetriableError
from abxero.xero.wire import decode_json

LOGIN_URL = "https://login.xero.com"
IDENTITY_URL = "https://identity.xero.com"
API_URL = "https://api.xero.com"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
ID_TOKEN_LEEWAY = 30


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class XeroTokens:
    """What Xero's token endpoint returned, with the moment the access token expires."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: tuple[str, ...]
    id_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret

    @classmethod
    def from_response(cls, body: dict[str, Any], now: datetime) -> XeroTokens:
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_at=now + timedelta(seconds=int(body.get("expires_in", 1800))),
            scope=tuple(str(body.get("scope", "")).split()),
            id_token=body.get("id_token"),
            token_type=str(body.get("token_type", "Bearer")),
        )

    def expires_within(self, seconds: float, now: datetime) -> bool:
        return self.expires_at - now <= timedelta(seconds=seconds)


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep until the callback."""

    url: str
    state: str
    code_verifier: str | None
    nonce: str | None


@dataclass(frozen=True)
class IdentityClaims:
    """The verified facts of an id_token."""

    xero_userid: str
    subject: str
    email: str | None
    given_name: str | None
    family_name: str | None
    claims: dict[str, Any]


@dataclass(frozen=True)
class TenantGrant:
    """One tenant the token may act on: an entry of Xero's ``GET /connections``.

    Not the stored organisation (``abxero.store.models.XeroConnection``).
    """

    connection_id: str
    tenant_id: str
    tenant_type: str
    tenant_name: str | None
    auth_event_id: str | None


def pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, S256 code_challenge)``."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


class XeroAuth:
    """The identity side of Xero for one app (client id/secret, redirect URI)."""

    def __init__(
        self,
        http: httpx.Client,
        client_id: str,
        client_secret: str | None,
        redirect_uri: str,
        *,
        login_url: str = LOGIN_URL,
        identity_url: str = IDENTITY_URL,
        api_url: str = API_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._http = http
        self.client_id, self._secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.login_url, self.identity_url = login_url.rstrip("/"), identity_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self._timeout, self._now = timeout, now
        self._discovery: dict[str, Any] | None = None

    def authorization_request(
        self,
        scopes: Sequence[str],
        *,
        state: str | None = None,
        use_pkce: bool = True,
        nonce: str | None = None,
    ) -> AuthorizationRequest:
        """The consent URL with ``state``, a nonce when ``openid`` is asked for, and PKCE S256."""
        state = state or secrets.token_urlsafe(24)
        if nonce is None and "openid" in scopes:
            nonce = secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
        }
        verifier = None
        if use_pkce:
            verifier, challenge = pkce_pair()
            params.update(code_challenge=challenge, code_challenge_method="S256")
        if nonce:
            params["nonce"] = nonce
        url = f"{self.login_url}/identity/connect/authorize?{urlencode(params)}"
        return AuthorizationRequest(url, state, verifier, nonce)

    def exchange_code(self, code: str, code_verifier: str | None = None) -> XeroTokens:
        """Trade the callback's code for tokens."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return XeroTokens.from_response(self._token_call(form), self._now())

    def refresh(self, refresh_token: str) -> XeroTokens:
        """A new token set; the old refresh token is rotated out. invalid_grant → reconnect."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return XeroTokens.from_response(self._token_call(form), self._now())

    def revoke(self, refresh_token: str) -> None:
        """Revoke the token (Xero removes the user's connections to this app)."""
        self._post_form(f"{self.identity_url}/connect/revocation", {"token": refresh_token})

    def _token_call(self, form: dict[str, str]) -> dict[str, Any]:
        response = self._post_form(f"{self.identity_url}/connect/token", form)
        body: dict[str, Any] = decode_json(response.content)
        return body

    def _post_form(self, url: str, form: dict[str, str]) -> httpx.Response:
        headers = {}
        if self._secret is not None:
            raw = f"{self.client_id}:{self._secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        else:
            form = {**form, "client_id": self.client_id}
        try:
            response = self._http.post(url, data=form, headers=headers, timeout=self._timeout)
        except httpx.TransportError as error:
            raise RetriableError(f"identity call failed: {error}", may_have_applied=True) from error
        if response.status_code >= 500:
            raise RetriableError(f"identity service answered {response.status_code}")
        if response.status_code >= 400:
            code = _oauth_error(response)
            if code in {"invalid_grant", "unauthorized_client", "access_denied"}:
                raise NeedsReconnectError(code)
            raise RejectedError(response.status_code, response.text)
        return response

    def connections(self, access_token: str, auth_event_id: str | None = None) -> list[TenantGrant]:
        """The tenants this access token may act on."""
        params = {"authEventId": auth_event_id} if auth_event_id else None
        response = self._bearer("GET", f"{self.api_url}/connections", access_token, params)
        return [
            TenantGrant(
                connection_id=row["id"],
                tenant_id=row["tenantId"],
                tenant_type=row.get("tenantType", "ORGANISATION"),
                tenant_name=row.get("tenantName"),
                auth_event_id=row.get("authEventId"),
            )
            for row in decode_json(response.content)
        ]

    def disconnect(self, access_token: str, connection_id: str) -> None:
        """Remove one tenant's connection (``DELETE /connections/{id}``)."""
        self._bearer("DELETE", f"{self.api_url}/connections/{connection_id}", access_token, None)

    def _bearer(
        self, method: str, url: str, token: str, params: dict[str, str] | None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            response = self._http.request(
                method, url, headers=headers, params=params, timeout=self._timeout
            )
        except httpx.TransportError as error:
            raise RetriableError(f"connections call failed: {error}") from error
        if response.status_code == 401:
            raise NeedsReconnectError("access token refused")
        if response.status_code >= 500:
            raise RetriableError(f"connections answered {response.status_code}")
        if response.status_code >= 400:
            raise RejectedError(response.status_code, response.text)
        return response

    def discovery(self) -> dict[str, Any]:
        """The OpenID Connect discovery document (cached)."""
        if self._discovery is None:
            url = f"{self.identity_url}/.well-known/openid-configuration"
            found = self._identity_json(url, "OpenID discovery")
            if not isinstance(found, dict) or not {"issuer", "jwks_uri"} <= found.keys():
                raise RetriableError("OpenID discovery document lacks issuer or jwks_uri")
            self._discovery = found
        return self._discovery

    def _identity_json(self, url: str, what: str) -> Any:
        """GET a JSON document of the identity service; failures become typed Xero errors."""
        try:
            response = self._http.get(url, timeout=self._timeout)
        except httpx.TransportError as error:
            raise RetriableError(f"{what} failed: {error}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise RetriableError(f"{what} answered {response.status_code}")
        if response.status_code >= 400:
            raise RejectedError(response.status_code, response.text)
        try:
            return decode_json(response.content)
        except ValueError as error:
            raise RetriableError(f"{what} answered with unreadable JSON") from error

    def _signing_keys(self, jwks_uri: str) -> KeySet:
        document = self._identity_json(jwks_uri, "JWKS")
        try:
            return KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise RetriableError(f"JWKS holds no usable keys: {error}") from error

    def verify_id_token(self, id_token: str, nonce: str | None = None) -> IdentityClaims:
        """Check signature (JWKS), issuer, audience, expiry and nonce; return the claims.

        ``exp``, ``iat`` and ``nbf`` are checked with ``ID_TOKEN_LEEWAY`` seconds of clock skew
        (RFC 7519 §4.1.4-4.1.6: implementers "MAY provide for some small leeway"), so a token
        issued a moment "in the future" by Xero's clock, or expiring as it arrives, verifies.
        """
        meta = self.discovery()
        keys = self._signing_keys(str(meta["jwks_uri"]))
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": meta["issuer"]},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                now=lambda: int(self._now().timestamp()),
                leeway=ID_TOKEN_LEEWAY,
            ).validate(token.claims)
        except (JoseError, ValueError) as error:
            raise IdTokenError(f"id_token rejected: {error}") from error
        claims = dict(token.claims)
        if nonce is not None and claims.get("nonce") != nonce:
            raise IdTokenError("id_token nonce does not match")
        return IdentityClaims(
            xero_userid=str(claims.get("xero_userid") or claims["sub"]),
            subject=str(claims["sub"]),
            email=claims.get("email"),
            given_name=claims.get("given_name"),
            family_name=claims.get("family_name"),
            claims=claims,
        )


def _oauth_error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""
