"""One Accounting API call: auth, tenant, pacing, timeouts, 401 refresh, 429s, typed errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from abxero.xero.errors import (
    DayLimitError,
    NeedsReconnectError,
    NotFoundError,
    RejectedError,
    RetriableError,
    ValidationFailedError,
)
from abxero.xero.oauth import DEFAULT_TIMEOUT, utc_now
from abxero.xero.pacing import Pacer, Pacing
from abxero.xero.wire import decode_json

_WRITES = frozenset({"PUT", "POST", "DELETE"})
_LIMIT_PREFIXES = (
    ("appminute", ("app",)),
    ("day", ("day", "daily")),
    ("minute", ("minute",)),
    ("concurrent", ("concurrent",)),
)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a minute-limit 429 may make us wait before we give the problem back."""

    max_retry_after: float = 60.0
    max_attempts: int = 3
    concurrent_backoff: float = 1.0


@dataclass
class CallOptions:
    """The parts of one request beyond method and path."""

    params: Mapping[str, str] | httpx.QueryParams | None = None
    content: bytes | None = None
    content_type: str | None = None
    idempotency_key: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


class AccountingTransport:
    """Sends requests for one tenant and turns failures into typed errors."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        tenant_id: str,
        access_token: Callable[[], str],
        *,
        refresh_token: Callable[[], str] | None = None,
        pacer: Pacing | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._http, self.base_url, self.tenant_id = http, base_url.rstrip("/"), tenant_id
        self._access_token, self._refresh = access_token, refresh_token
        self._pacer: Pacing = pacer or Pacer()
        self._timeout, self._retry, self._sleep, self._now = timeout, retry, sleep, now

    def call(self, method: str, path: str, options: CallOptions | None = None) -> httpx.Response:
        """Send, waiting out short minute limits; raise a typed error for anything else."""
        options = options or CallOptions()
        token, refreshed, attempts = self._access_token(), False, 0
        while True:
            response = self._send(method, path, options, token)
            if response.status_code == 401 and not refreshed and self._refresh is not None:
                token, refreshed = self._refresh(), True
                continue
            if response.status_code == 429 and attempts < self._retry.max_attempts:
                wait = self._rate_limited(response, method)
                attempts += 1
                self._sleep(wait)
                continue
            return self._checked(method, response)

    def _send(self, method: str, path: str, options: CallOptions, token: str) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
            **options.extra_headers,
        }
        if options.content_type:
            headers["Content-Type"] = options.content_type
        if options.idempotency_key:
            headers["Idempotency-Key"] = options.idempotency_key
        url = f"{self.base_url}/{path.lstrip('/')}"
        with self._pacer.slot(self.tenant_id):
            try:
                response = self._http.request(
                    method,
                    url,
                    params=options.params,
                    content=options.content,
                    headers=headers,
                    timeout=self._timeout,
                )
            except httpx.TimeoutException as error:
                raise RetriableError(
                    f"{method} {path} timed out", may_have_applied=method in _WRITES
                ) from error
            except httpx.TransportError as error:
                raise RetriableError(
                    f"{method} {path} failed: {error}", may_have_applied=method in _WRITES
                ) from error
        self._pacer.observe(self.tenant_id, response.headers)
        return response

    def _rate_limited(self, response: httpx.Response, method: str) -> float:
        """Seconds to wait before retrying, or raise when we should not wait here."""
        problem = limit_problem(response.headers.get("x-rate-limit-problem"))
        retry_after = _seconds(response.headers.get("retry-after"), default=60.0)
        if problem == "day":
            raise DayLimitError(self._now() + timedelta(seconds=retry_after))
        if problem == "concurrent":
            return self._retry.concurrent_backoff
        if retry_after > self._retry.max_retry_after:
            raise RetriableError(
                f"{problem or 'rate'} limit for {retry_after:.0f}s", retry_after=retry_after
            )
        self._pacer.hold(self.tenant_id, retry_after, problem)
        return retry_after

    def _checked(self, method: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        if status == 401:
            raise NeedsReconnectError(f"Xero refused the token: {_detail(response)}")
        if status == 403:
            raise NeedsReconnectError(f"Xero refused the tenant: {_detail(response)}")
        if status == 404:
            raise NotFoundError(_detail(response))
        if status == 429:
            retry_after = _seconds(response.headers.get("retry-after"), default=60.0)
            raise RetriableError("rate limited", retry_after=retry_after)
        if status >= 500:
            raise RetriableError(f"Xero answered {status}", may_have_applied=method in _WRITES)
        if status == 400:
            body = _json_or_none(response)
            messages = validation_messages(body)
            raise ValidationFailedError(
                messages[0] if messages else response.text[:500], messages, body
            )
        raise RejectedError(status, response.text)


def limit_problem(header: str | None) -> str:
    """Which limit a 429 names: ``day``, ``minute``, ``concurrent``, ``appminute`` or ``""``.

    Xero's limits page and SDK threads show ``day``/``minute`` (XeroAPI/xero-python#74), while
    others report ``Daily``/``Minute`` (calcinai/xero-php#352), so the header is read
    case-insensitively and by its leading word.
    """
    text = (header or "").strip().lower()
    for name, prefixes in _LIMIT_PREFIXES:
        if text.startswith(prefixes):
            return name
    return text


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return decode_json(response.content)
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    body = _json_or_none(response)
    if isinstance(body, dict):
        return str(body.get("Detail") or body.get("Message") or body)
    return response.text[:300]


def validation_messages(body: Any) -> list[str]:
    """Every message of a ValidationException (top-level and per element)."""
    if not isinstance(body, dict):
        return []
    messages = [
        str(error.get("Message"))
        for element in body.get("Elements") or []
        if isinstance(element, dict)
        for error in element.get("ValidationErrors") or []
    ]
    if not messages and body.get("Message"):
        messages.append(str(body["Message"]))
    if not messages and body.get("Detail"):
        messages.append(str(body["Detail"]))
    return messages
