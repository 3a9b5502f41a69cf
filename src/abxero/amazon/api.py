"""Sending one Amazon Business API request: auth header, retries, and typed errors."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from abxero.amazon.auth import TokenSource
from abxero.amazon.errors import AmazonError, FatalError, NeedsReconnectError, RetriableError
from abxero.amazon.retry import RetryPolicy, asked_wait, documented_wait
from abxero.domain import jsontext

RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
USER_AGENT = "abxero/0.1 (Language=Python)"


def error_summary(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` from an ErrorList body, or the bare status."""
    try:
        errors = response.json().get("errors")
        first = errors[0]
        return str(first.get("code", "")), "; ".join(
            str(part) for part in (first.get("message"), first.get("details")) if part
        )
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        return str(response.status_code), response.reason_phrase


class AmazonApi:
    """One connection's API session on one regional host.

    Retries 429, 5xx, timeouts and dropped connections with jittered backoff (never sooner than
    ``Retry-After`` or the ``x-amzn-RateLimit-Limit`` pace); after a 401/403 it refreshes the
    access token once and tries again. ``sleep`` is injectable so tests need not wait.
    """

    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        tokens: TokenSource,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The JSON body, numbers read exactly (a number where text belongs stays storable)."""
        return jsontext.loads(self.request("GET", path, params=params).content)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body).json()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """The successful response, or an :class:`AmazonError` saying what to do."""
        refreshed = False
        last: AmazonError = RetriableError("no attempt made")
        for attempt in range(self.retry.attempts):
            outcome = self._attempt(method, path, params, json)
            if isinstance(outcome, httpx.Response):
                return outcome
            if isinstance(outcome, NeedsReconnectError) and not refreshed:
                refreshed = True
                self.tokens.refresh()
                continue
            if not isinstance(outcome, RetriableError):
                raise outcome
            last = outcome
            if attempt + 1 < self.retry.attempts:
                self._wait(attempt, outcome)
        raise last

    def _wait(self, attempt: int, problem: RetriableError) -> None:
        delay = self.retry.delay(attempt, self.rng, problem.retry_after)
        if delay > self.retry.max_delay:
            raise problem
        self.sleep(delay)

    def _attempt(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any
    ) -> httpx.Response | AmazonError:
        headers = {
            "x-amz-access-token": self.tokens.access_token(),
            "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
            "user-agent": USER_AGENT,
            "accept": "application/json",
        }
        try:
            response = self.http.request(
                method, self.api_url + path, params=params, json=json, headers=headers
            )
        except httpx.TimeoutException as problem:
            return RetriableError(f"{method} {path} timed out: {problem}")
        except httpx.TransportError as problem:
            return RetriableError(f"{method} {path} failed in transport: {problem!r}")
        return response if response.is_success else classify(method, path, response)


def classify(method: str, path: str, response: httpx.Response) -> AmazonError:
    """The error a failed response stands for."""
    status = response.status_code
    code, message = error_summary(response)
    text = f"{method} {path} → {status} {code}: {message}"
    request_id = response.headers.get("x-amzn-requestid")
    if request_id:
        text += f" (x-amzn-RequestId {request_id})"
    if status in RETRIABLE_STATUSES:
        asked = asked_wait(response)
        if asked is None and status == 429:
            # A 429 may come without x-amzn-RateLimit-Limit (selling-partner-api-docs issue 86):
            # keep the operation's documented pace rather than hammering it.
            asked = documented_wait(method, path)
        return RetriableError(text, status=status, code=code, retry_after=asked)
    if status in AUTH_STATUSES:
        return NeedsReconnectError(text, status=status, code=code)
    return FatalError(text, status=status, code=code)
