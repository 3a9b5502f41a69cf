"""How long to wait before retrying: jittered exponential backoff, at least what Amazon asks."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; delays double from ``base_delay`` up to ``max_delay``."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 60.0

    def delay(self, attempt: int, rng: random.Random, asked: float | None = None) -> float:
        """The wait before try ``attempt + 1``: half fixed, half random, never below ``asked``."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        jittered = ceiling / 2 + rng.uniform(0, ceiling / 2)
        return float(max(jittered, asked or 0.0))


#: (method, path prefix) -> documented requests per second (amazon-business-api.md §3.1, §5.1,
#: from the models' usage plans); the pace to keep when a 429 names no rate of its own.
DOCUMENTED_RATES: tuple[tuple[str, str, float], ...] = (
    ("POST", "/reports/2021-09-30/reports", 0.0167),
    ("GET", "/reports/2021-09-30/documents/", 0.0167),
    ("GET", "/reports/2021-09-30/reports/", 2.0),
    ("GET", "/reports/2021-09-30/reports", 0.1),
    ("DELETE", "/reports/2021-09-30/reports/", 0.0222),
    ("GET", "/reconciliation/2021-01-08/", 2.0),
    ("POST", "/reconciliation/2021-01-08/", 2.0),
)


def documented_wait(method: str, path: str) -> float:
    """One request's worth of the operation's documented rate (1 s when unknown)."""
    for known_method, prefix, rate in DOCUMENTED_RATES:
        if method == known_method and path.startswith(prefix):
            return 1 / rate
    return 1.0


def asked_wait(response: httpx.Response) -> float | None:
    """What the response asks us to wait: ``Retry-After``, or one request at the rate limit."""
    retry_after = response.headers.get("retry-after", "")
    if retry_after.replace(".", "", 1).isdigit():
        return float(retry_after)
    try:
        rate = float(response.headers.get("x-amzn-ratelimit-limit", ""))
    except ValueError:
        return None
    return 1 / rate if rate > 0 and response.status_code == 429 else None
