"""Cookie sessions, CSRF tokens, safe redirects and the security headers of every response."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from abxero.settings import Settings
from abxero.store.crypto import load_or_create_key_file

SESSION_COOKIE = "abxero_session"
SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_AFTER_SIGN_IN = "/orgs"


def session_secret(settings: Settings) -> str:
    """A key for signing session cookies, derived from (never equal to) the token key."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    material = secret or load_or_create_key_file(settings.key_file)
    return hmac.new(material.encode(), b"abxero web session cookie", hashlib.sha256).hexdigest()


def uses_https(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


# -- the session ---------------------------------------------------------------------------


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def start_fresh_session(session: MutableMapping[str, Any]) -> None:
    """Drop everything and give the session a new id and CSRF token (sign-in, sign-out)."""
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    csrf_token(session)


def pop_matching(session: MutableMapping[str, Any], key: str, state: str) -> dict[str, Any] | None:
    """Take the pending OAuth request stored under ``key`` when its ``state`` matches."""
    pending = session.pop(key, None)
    if not isinstance(pending, dict):
        return None
    expected = str(pending.get("state", ""))
    if not state or not expected or not hmac.compare_digest(expected, state):
        return None
    return pending


async def check_csrf(request: Request) -> None:
    """Refuse any state-changing request without this session's CSRF token (403)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(status_code=403, detail="csrf")


# -- redirects -----------------------------------------------------------------------------


def safe_next(value: str | None, default: str = DEFAULT_AFTER_SIGN_IN) -> str:
    """``value`` when it is a path on this site, else ``default`` (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 32 or char == "\\" for char in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


# -- headers -------------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """No inline script, no framing; forms may only go to us and the two consent pages."""
    targets = sorted(
        {
            _origin(settings.xero_login_url),
            _origin(settings.amazon_consent_url_us),
            _origin(settings.amazon_consent_url_uk),
        }
    )
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self' " + " ".join(targets),
        )
    )


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds the security headers, and keeps private pages out of caches."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app)
        self.headers = {
            "Content-Security-Policy": content_security_policy(settings),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        }
        if uses_https(settings):
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(self.headers)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
