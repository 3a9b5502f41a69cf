"""The identity server's bookkeeping: clients, codes, grants, rotating tokens, signed id_tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from abxero_sim.xero.state import (
    AccessToken,
    AuthCode,
    Connection,
    Grant,
    RefreshToken,
    World,
)

ACCESS_TOKEN_LIFETIME = timedelta(minutes=30)
ID_TOKEN_LIFETIME = timedelta(minutes=5)
CODE_LIFETIME = timedelta(minutes=5)
REFRESH_GRACE = timedelta(minutes=30)
REFRESH_IDLE_EXPIRY = timedelta(days=60)


@dataclass(frozen=True)
class SimClient:
    """A registered app. No redirect URIs means any loopback URL is accepted."""

    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...] = ()
    name: str = "abxero"

    def allows_redirect(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in {"http", "https"} and parts.hostname in {"localhost", "127.0.0.1"}


@dataclass(frozen=True)
class SimUser:
    """A Xero user who can sign in; ``organisations`` are the keys of the organisations they
    belong to (empty: every organisation of the simulator)."""

    user_id: str
    email: str
    given_name: str
    family_name: str
    organisations: tuple[str, ...] = ()

    def may_connect(self, org_key: str) -> bool:
        return not self.organisations or org_key in self.organisations


class TokenError(Exception):
    """An OAuth error response (``error`` code and HTTP status)."""

    def __init__(self, error: str, status: int = 400, description: str = "") -> None:
        super().__init__(error)
        self.error, self.status, self.description = error, status, description


@lru_cache(maxsize=8)
def signing_key(seed: int) -> RSAKey:
    """The RSA key id_tokens are signed with (one per seed and process)."""
    return RSAKey.generate_key(
        2048, parameters={"kid": f"sim-{seed}", "use": "sig", "alg": "RS256"}
    )


def pkce_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Identity:
    """Issues and checks tokens against the shared :class:`World`."""

    def __init__(
        self,
        world: World,
        clients: dict[str, SimClient],
        user: SimUser,
        others: Sequence[SimUser] = (),
    ) -> None:
        self.world = world
        self.clients = clients
        self.user = user
        self.users = {u.user_id: u for u in (user, *others)}

    def user_named(self, user_id: str | None) -> SimUser:
        """The user who signs in on the consent page (the first one unless another is chosen)."""
        return self.users.get(user_id or "", self.user)

    def client(self, client_id: str | None) -> SimClient | None:
        return self.clients.get(client_id or "")

    def authenticate(self, client_id: str | None, secret: str | None, pkce: bool) -> SimClient:
        """The calling client, checked by secret (or by PKCE when it has none)."""
        client = self.client(client_id)
        if client is None:
            raise TokenError("invalid_client", 401)
        needs_secret = client.client_secret is not None and not pkce
        if needs_secret and not secrets.compare_digest(secret or "", client.client_secret or ""):
            raise TokenError("invalid_client", 401)
        return client

    def issue_code(self, code: AuthCode) -> str:
        value = self.world.ids.token("code")
        self.world.codes[value] = code
        return value

    def exchange_code(
        self, client: SimClient, code: str, redirect_uri: str, verifier: str | None, issuer: str
    ) -> dict[str, Any]:
        """Trade a single-use code for a token set (and connect the chosen tenants)."""
        now = self.world.clock.now()
        pending = self.world.codes.get(code)
        if pending is None or pending.used or now - pending.issued_at > CODE_LIFETIME:
            raise TokenError("invalid_grant")
        if pending.client_id != client.client_id or pending.redirect_uri != redirect_uri:
            raise TokenError("invalid_grant")
        if pending.code_challenge is not None:
            if not verifier or pkce_challenge(verifier) != pending.code_challenge:
                raise TokenError("invalid_grant", description="code_verifier does not match")
        elif client.client_secret is None:
            raise TokenError("invalid_client", 401)
        pending.used = True
        user = self.user_named(pending.user_id)
        grant = self.new_grant(client.client_id, pending.scopes, pending.tenant_ids, user)
        return self.token_response(grant, issuer, pending.nonce)

    def new_grant(
        self,
        client_id: str,
        scopes: tuple[str, ...],
        tenant_ids: tuple[str, ...],
        user: SimUser | None = None,
    ) -> Grant:
        """Record a consent and connect its tenants."""
        world, now = self.world, self.world.clock.now()
        who = user or self.user
        grant = Grant(
            world.ids.guid("grant"),
            client_id,
            who.user_id,
            scopes,
            world.ids.guid("authevent"),
        )
        world.grants[grant.grant_id] = grant
        for tenant_id in tenant_ids:
            existing = self._connection(client_id, tenant_id, who.user_id)
            if existing is not None:
                existing.updated, existing.auth_event_id = now, grant.auth_event_id
                continue
            connection_id = world.ids.guid("connection")
            world.connections[connection_id] = Connection(
                connection_id,
                tenant_id,
                client_id,
                who.user_id,
                grant.auth_event_id,
                now,
                now,
            )
        return grant

    def _connection(self, client_id: str, tenant_id: str, user_id: str) -> Connection | None:
        return next(
            (
                c
                for c in self.world.connections.values()
                if c.client_id == client_id and c.tenant_id == tenant_id and c.user_id == user_id
            ),
            None,
        )

    def token_response(self, grant: Grant, issuer: str, nonce: str | None = None) -> dict[str, Any]:
        """A fresh access token (and refresh / id token when the scopes ask for them)."""
        world, now = self.world, self.world.clock.now()
        access = world.ids.token("access")
        world.access_tokens[access] = AccessToken(grant.grant_id, now + ACCESS_TOKEN_LIFETIME)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if "offline_access" in grant.scopes:
            refresh = world.ids.token("refresh")
            world.refresh_tokens[refresh] = RefreshToken(grant.grant_id, now)
            body["refresh_token"] = refresh
        if "openid" in grant.scopes:
            body["id_token"] = self.id_token(grant, issuer, nonce, now)
        return body

    def id_token(self, grant: Grant, issuer: str, nonce: str | None, now: datetime) -> str:
        user = self.user_named(grant.user_id)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": grant.client_id,
            "sub": user.user_id,
            "iat": int(now.timestamp()),
            "auth_time": int(now.timestamp()),
            "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
            "xero_userid": user.user_id,
            "global_session_id": grant.auth_event_id,
            "sid": grant.auth_event_id,
        }
        if "email" in grant.scopes:
            claims.update(email=user.email, preferred_username=user.email)
        if "profile" in grant.scopes:
            claims.update(given_name=user.given_name, family_name=user.family_name)
        if nonce:
            claims["nonce"] = nonce
        key = signing_key(self.world.seed)
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)

    def refresh(self, client: SimClient, token: str, issuer: str) -> dict[str, Any]:
        """Rotate: the old refresh token stays usable for the grace window, then dies."""
        now = self.world.clock.now()
        stored = self.world.refresh_tokens.get(token)
        if stored is None:
            raise TokenError("invalid_grant")
        grant = self.world.grants.get(stored.grant_id)
        if grant is None or grant.revoked or grant.client_id != client.client_id:
            raise TokenError("invalid_grant")
        if stored.rotated_at is not None and now - stored.rotated_at > REFRESH_GRACE:
            raise TokenError("invalid_grant")
        if now - stored.issued_at > REFRESH_IDLE_EXPIRY:
            raise TokenError("invalid_grant")
        if stored.rotated_at is None:
            stored.rotated_at = now
        return self.token_response(grant, issuer)

    def revoke(self, client: SimClient, token: str) -> None:
        """Revoke the token's grant and drop that user's connections to the app."""
        stored = self.world.refresh_tokens.get(token)
        if stored is None:
            return
        grant = self.world.grants.get(stored.grant_id)
        if grant is None or grant.client_id != client.client_id:
            return
        self.revoke_grant(grant)

    def revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True
        for connection_id, connection in list(self.world.connections.items()):
            if connection.client_id == grant.client_id and connection.user_id == grant.user_id:
                del self.world.connections[connection_id]

    def bearer(self, token: str) -> tuple[Grant | None, str]:
        """The grant behind an access token, or None with the 401 detail."""
        stored = self.world.access_tokens.get(token)
        if stored is None:
            return None, "AuthenticationUnsuccessful"
        grant = self.world.grants.get(stored.grant_id)
        if grant is None or grant.revoked:
            return None, "AuthenticationUnsuccessful"
        if self.world.clock.now() >= stored.expires_at:
            return None, f"TokenExpired: token expired at {stored.expires_at:%m/%d/%Y %H:%M:%S}"
        return grant, ""

    def connections_of(self, grant: Grant) -> list[Connection]:
        return [
            c
            for c in self.world.connections.values()
            if c.client_id == grant.client_id and c.user_id == grant.user_id
        ]

    def expire_access_tokens(self) -> None:
        now = self.world.clock.now()
        for stored in self.world.access_tokens.values():
            stored.expires_at = min(stored.expires_at, now)
