"""Pacing shared by every worker and lane: Xero's limits are per organisation and per app.

Xero counts calls per organisation (tenant): 5 in flight, 60 a minute, 5,000 a day; and per
app across every organisation: 10,000 a minute (https://developer.xero.com/faq/limits, see
``docs/xero-api.md`` §2.1). Two worker processes that each pace themselves can together break
these, so :class:`SharedPacer` keeps the counts in one place every process sees — Redis when the
queue is Redis, the database otherwise (:class:`PaceBackend`).

* Minute, day and app-minute are sliding windows of calls (Xero's own windows are fixed but
  start at a time we do not know, so a sliding window never lets a fixed one overflow). A call
  counts from its start and, once answered, from its end: Xero received it in between, so a
  new call is let through only when a window's oldest call arrived at Xero a full window ago.
* Concurrency is a set of slots with an expiry, so a worker that dies mid-call frees its slot
  once the expiry passes.
* Xero's ``X-MinLimit-Remaining``/``X-DayLimit-Remaining``/``X-AppMinLimit-Remaining`` headers
  raise the local counts when Xero has counted more than we did (calls by another app instance,
  or before a restart); a 429 with ``X-Rate-Limit-Problem`` and a ``Retry-After`` the
  transport waits out parks everyone sharing that limit: ``minute`` the organisation,
  ``appminute`` all. A ``day`` 429 parks the organisation in the ledger instead
  (``xero_connections.parked_until``, on the engine's clock), as before.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from abxero.xero.pacing import header_count

APP_SCOPE = "*app*"
MINUTE, DAY = 60.0, 86_400.0
#: How often a caller waiting only for a free concurrency slot looks again.
SLOT_POLL = 0.02


@dataclass(frozen=True)
class PaceLimits:
    """Xero's limits (the defaults) and how long a concurrency slot outlives a dead holder."""

    concurrent: int = 5
    per_minute: int = 60
    per_day: int = 5000
    app_per_minute: int = 10_000
    slot_ttl: float = 120.0


@dataclass(frozen=True)
class Remaining:
    """What Xero's headers say is left (``None`` when a header is absent or unreadable)."""

    minute: int | None = None
    day: int | None = None
    app_minute: int | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Remaining:
        return cls(
            header_count(headers.get("x-minlimit-remaining")),
            header_count(headers.get("x-daylimit-remaining")),
            header_count(headers.get("x-appminlimit-remaining")),
        )


class PaceBackend(Protocol):
    """Where the shared counts live; every method is atomic across processes."""

    def try_start(self, tenant_id: str, slot_id: str, now: float, limits: PaceLimits) -> float:
        """Take a slot and count a call (return 0), or return seconds to wait first."""

    def finish(self, tenant_id: str, slot_id: str, now: float) -> None:
        """Give the slot back and move the call's count to ``now``, when it ended."""

    def hold(self, scope: str, until: float) -> None:
        """Start nothing in ``scope`` (a tenant id or :data:`APP_SCOPE`) before ``until``."""

    def correct(self, tenant_id: str, remaining: Remaining, now: float, limits: PaceLimits) -> None:
        """Raise the local counts to what Xero says it has counted."""


class SharedPacer:
    """The :class:`~abxero.xero.pacing.Pacer` interface over a shared :class:`PaceBackend`."""

    def __init__(
        self,
        backend: PaceBackend,
        limits: PaceLimits = PaceLimits(),
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend, self.limits = backend, limits
        self._clock, self._sleep = clock, sleep
        self._day_seen: dict[str, tuple[int, float]] = {}

    @contextmanager
    def slot(self, tenant_id: str) -> Iterator[None]:
        """Hold one of the tenant's concurrency slots, after waiting for every window."""
        slot_id = uuid.uuid4().hex
        while True:
            wait = self.backend.try_start(tenant_id, slot_id, self._clock(), self.limits)
            if wait <= 0:
                break
            self._sleep(wait)
        try:
            yield
        finally:
            self.backend.finish(tenant_id, slot_id, self._clock())

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        remaining = Remaining.from_headers(headers)
        if remaining != Remaining():
            self.backend.correct(tenant_id, remaining, self._clock(), self.limits)
        day = header_count(headers.get("x-daylimit-remaining"))
        if day is not None:
            self._day_seen[tenant_id] = (day, self._clock())

    def day_remaining(self, tenant_id: str, max_age: float = 600.0) -> int | None:
        """Xero's calls left today for ``tenant_id`` as its header last said to this process,
        if within ``max_age`` seconds (for planning a long history; the shared counts above
        are what keeps every worker inside the limit)."""
        seen = self._day_seen.get(tenant_id)
        if seen is None or self._clock() - seen[1] > max_age:
            return None
        return seen[0]

    def hold(self, tenant_id: str, seconds: float, problem: str = "minute") -> None:
        """Park everyone sharing the limit ``problem`` names for ``seconds``."""
        scope = APP_SCOPE if problem == "appminute" else tenant_id
        self.backend.hold(scope, self._clock() + seconds)


def window_wait(starts: list[float], limit: int, length: float, now: float) -> float:
    """Seconds until a call fits a sliding window holding ``starts`` (sorted, live only)."""
    if len(starts) < limit:
        return 0.0
    return starts[len(starts) - limit] + length - now
