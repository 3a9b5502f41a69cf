"""Server-side sessions, request body limits, CSRF tokens, safe redirects and the security
headers of every response."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from abxero.runtime import Runtime
from abxero.services import web_sessions
from abxero.settings import Settings

SESSION_COOKIE = "abxero_session"
ROTATE = "_rotate"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_AFTER_SIGN_IN = "/orgs"


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
    """Drop everything, end the stored session and start a new one with a new id and CSRF token
    (sign-in, sign-out, disconnect): the old cookie no longer opens anything."""
    session.clear()
    session[ROTATE] = True
    csrf_token(session)


class ServerSessions:
    """Pure ASGI middleware: ``scope["session"]`` from the session store, saved after the route.

    The cookie holds only a random id (HttpOnly, SameSite=Lax, Secure over https). Loading and
    saving run in a worker thread, never on the event loop.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.secure = "; Secure" if uses_https(runtime.settings) else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = _cookie(scope, SESSION_COOKIE)
        data = await to_thread.run_sync(self._load, session_id) if session_id else None
        if data is None:
            session_id = None
        scope["session"] = data or {}
        before = json.dumps(data or {}, sort_keys=True)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await to_thread.run_sync(self._store, session_id, scope["session"], before)
                if cookie:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, session_id: str) -> dict[str, Any] | None:
        return web_sessions.load(self.runtime.sessions, session_id, self.runtime.now())

    def _store(self, session_id: str | None, data: dict[str, Any], before: str) -> str:
        """Save a changed session; the Set-Cookie value when the browser needs a new id."""
        factory = self.runtime.sessions
        if data.pop(ROTATE, False) and session_id:
            web_sessions.end(factory, session_id)
            session_id = None
        if json.dumps(data, sort_keys=True) == before and session_id:
            return ""
        if not data and not session_id:
            return ""
        saved = web_sessions.save(factory, session_id, data, self.runtime.now())
        if saved == session_id:
            return ""
        lifetime = int(web_sessions.ABSOLUTE.total_seconds())
        return (
            f"{SESSION_COOKIE}={saved}; Path=/; Max-Age={lifetime}; HttpOnly; SameSite=Lax"
            + self.secure
        )


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed cookie header is no session
                return None
            if name in jar:
                return jar[name].value
    return None


# -- request bodies ------------------------------------------------------------------------

WEBHOOK_BODY_LIMIT = 64 * 1024
FORM_BODY_LIMIT = 256 * 1024


def body_limit_for(path: str) -> int:
    """Xero's webhook deliveries are small; every form of ours fits in a modest body."""
    return WEBHOOK_BODY_LIMIT if path.startswith("/webhooks/") else FORM_BODY_LIMIT


class BodyLimit:
    """Pure ASGI middleware refusing a body over the route's limit with 413, before it is read.

    A declared ``Content-Length`` over the limit is refused at once; a body without one is
    counted as it arrives and cut off when it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int] = body_limit_for) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send)
            return
        state = {"received": 0, "refused": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    if not state["started"]:
                        state["refused"] = True
                        await _too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if state["refused"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except ClientDisconnect:
            if not state["refused"]:
                raise


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else 0
    return None


async def _too_large(send: Send) -> None:
    body = b"The request is too large."
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


PENDING_LIFETIME = timedelta(minutes=10)


def pending_request(state: str, now: datetime, **details: object) -> dict[str, Any]:
    """An OAuth request waiting for its callback, kept in the server-side session only."""
    return {"state": state, "started": now.isoformat(), **details}


def pop_matching(
    session: MutableMapping[str, Any], key: str, state: str, now: datetime
) -> dict[str, Any] | None:
    """Take the pending OAuth request stored under ``key`` when its ``state`` matches and it
    is younger than ``PENDING_LIFETIME``: the ``state`` is a nonce of this session, so a code
    and state taken from another browser, or an old consent, are refused."""
    pending = session.pop(key, None)
    if not isinstance(pending, dict):
        return None
    expected = str(pending.get("state", ""))
    if not state or not expected or not hmac.compare_digest(expected, state):
        return None
    try:
        started = datetime.fromisoformat(str(pending.get("started", "")))
    except ValueError:
        return None
    if not started <= now < started + PENDING_LIFETIME:
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


ID_PARAMETERS = ("connection_id", "run_id", "run")
MAX_ID_DIGITS = 15


async def check_ids(request: Request) -> None:
    """A row id no table can hold (``/orgs/99999999999999999999``) is simply not found, before
    it reaches the database (SQLite and PostgreSQL integers stop at 2**63)."""
    for source in (request.path_params, request.query_params):
        for name in ID_PARAMETERS:
            value = source.get(name)
            if isinstance(value, str) and len(value.strip()) > MAX_ID_DIGITS:
                raise HTTPException(status_code=404, detail="not found")


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
