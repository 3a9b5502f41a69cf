"""Login with Amazon for Amazon Business: the consent URL, code exchange and refresh.

Token requests are built with authlib's OAuth 2 primitives and sent over the caller's
``httpx.Client``. :class:`TokenKeeper` hands out a valid access token, refreshing about a minute
before expiry, and calls ``on_refresh`` with the new token set *before* using it, so a crash
never loses a token Amazon has issued.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749 import OAuth2Token
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from abxero.amazon.errors import FatalError, NeedsReconnectError, RetriableError
from abxero.amazon.regions import Endpoints

FORM_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
}
RECONNECT_ERRORS = ("invalid_grant", "access_denied")


def consent_url(endpoints: Endpoints, *, application_id: str, redirect_uri: str, state: str) -> str:
    """The store page where an Amazon Business admin authorizes the app (no scope, no client_id)."""
    query = urlencode(
        {"applicationId": application_id, "state": state, "redirect_uri": redirect_uri}
    )
    return f"{endpoints.consent_url}?{query}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AmazonTokens:
    """Amazon's (LWA) tokens of one connection, decrypted; the caller stores them encrypted
    (``EncryptedTokenSet``)."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret

    def expires_within(self, seconds: float, now: datetime) -> bool:
        return self.expires_at - timedelta(seconds=seconds) <= now

    def as_dict(self) -> dict[str, str]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "token_type": self.token_type,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> AmazonTokens:
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
            token_type=data.get("token_type", "bearer"),
        )


class LwaClient:
    """The LWA token endpoint: authorization-code exchange and refresh."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.http = http
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_url = token_url
        self.now = now

    def exchange_code(self, code: str, redirect_uri: str) -> AmazonTokens:
        """Trade the consent page's ``code`` for tokens (same ``redirect_uri`` as the consent)."""
        return self._grant("authorization_code", code=code, redirect_uri=redirect_uri)

    def refresh(self, refresh_token: str) -> AmazonTokens:
        """A new access token; Amazon may keep the refresh token, then the old one stays."""
        tokens = self._grant("refresh_token", refresh_token=refresh_token)
        return tokens if tokens.refresh_token else _with_refresh(tokens, refresh_token)

    def _grant(self, grant_type: str, **fields: str) -> AmazonTokens:
        body: str = prepare_token_request(
            grant_type, client_id=self.client_id, client_secret=self.client_secret, **fields
        )
        try:
            response = self.http.post(self.token_url, content=body, headers=FORM_HEADERS)
        except httpx.TransportError as problem:
            raise RetriableError(f"token endpoint unreachable: {problem}") from problem
        return self._tokens(response)

    def _tokens(self, response: httpx.Response) -> AmazonTokens:
        data = _json_object(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise RetriableError(
                f"token endpoint answered {response.status_code}", status=response.status_code
            )
        error = str(data.get("error", ""))
        if response.status_code != 200 or error or "access_token" not in data:
            _raise_oauth_error(response.status_code, error, str(data.get("error_description", "")))
        token = OAuth2Token.from_dict(data)
        expires_in = int(token.get("expires_in") or 3600)
        return AmazonTokens(
            access_token=str(token["access_token"]),
            refresh_token=str(token.get("refresh_token") or ""),
            expires_at=self.now() + timedelta(seconds=expires_in),
            token_type=str(token.get("token_type") or "bearer"),
        )


def _with_refresh(tokens: AmazonTokens, refresh_token: str) -> AmazonTokens:
    return AmazonTokens(tokens.access_token, refresh_token, tokens.expires_at, tokens.token_type)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _raise_oauth_error(status: int, error: str, description: str) -> None:
    message = f"LWA {error or status}: {description}".rstrip(": ")
    if error in RECONNECT_ERRORS:
        raise NeedsReconnectError(message, status=status, code=error)
    raise FatalError(message, status=status, code=error or str(status))


class TokenSource(Protocol):
    """Where the API client gets the access token, and asks for a new one after a 403."""

    def access_token(self) -> str: ...

    def refresh(self) -> str: ...


class TokenKeeper:
    """Keeps one connection's tokens fresh; persists each new set before it is used.

    Several keepers may share one grant (an account feeding several organisations, the sync
    and the attachment lane). Given ``lock`` and ``reload``, a refresh happens inside the lock
    after reading the stored set again: when another keeper refreshed meanwhile, its tokens are
    used instead of refreshing once more with a refresh token Amazon may already have replaced
    (LWA may return a new refresh token on refresh; docs/amazon-business-api.md §2.3 says to
    keep whatever a refresh returns).
    """

    def __init__(
        self,
        lwa: LwaClient,
        tokens: AmazonTokens,
        *,
        on_refresh: Callable[[AmazonTokens], None],
        now: Callable[[], datetime] = _utc_now,
        leeway_seconds: float = 60,
        lock: Callable[[], AbstractContextManager[None]] | None = None,
        reload: Callable[[], AmazonTokens] | None = None,
    ) -> None:
        self.lwa = lwa
        self.tokens = tokens
        self.on_refresh = on_refresh
        self.now = now
        self.leeway_seconds = leeway_seconds
        self.lock = lock or nullcontext
        self.reload = reload

    def access_token(self) -> str:
        if self.tokens.expires_within(self.leeway_seconds, self.now()):
            return self.refresh()
        return self.tokens.access_token

    def refresh(self) -> str:
        with self.lock():
            stored = self.reload() if self.reload is not None else self.tokens
            if stored.access_token != self.tokens.access_token and not stored.expires_within(
                self.leeway_seconds, self.now()
            ):
                self.tokens = stored  # another keeper of this grant refreshed meanwhile
                return stored.access_token
            fresh = self.lwa.refresh(stored.refresh_token)
            self.on_refresh(fresh)
            self.tokens = fresh
            return fresh.access_token


class StaticToken:
    """A token source for a fixed access token (sandbox credentials, test harnesses)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refresh(self) -> str:
        """Nothing to refresh with: the same token, so a second refusal reaches the caller."""
        return self.token
