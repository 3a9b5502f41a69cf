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
