"""Client-side pacing that keeps each tenant inside 5 in flight and 60 calls a minute.

:class:`Pacer` counts within one process (tests, single-process tools);
:class:`~abxero.xero.shared_pacing.SharedPacer` counts across every worker (the runtime's choice).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol


class Pacing(Protocol):
    """What a transport needs from a pacer."""

    def slot(self, tenant_id: str) -> AbstractContextManager[None]: ...

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None: ...

    def hold(self, tenant_id: str, seconds: float, problem: str = "minute") -> None: ...

    def day_remaining(self, tenant_id: str, max_age: float = 600.0) -> int | None: ...


@dataclass
class _TenantPace:
    slots: threading.BoundedSemaphore
    starts: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    day_remaining: int | None = None
    day_seen_at: float = 0.0


class Pacer:
    """Shared by every client of a process; one instance per app."""

    def __init__(
        self,
        *,
        concurrent: int = 5,
        per_minute: int = 60,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.concurrent, self.per_minute = concurrent, per_minute
        self._monotonic, self._sleep = monotonic, sleep
        self._tenants: dict[str, _TenantPace] = {}
        self._lock = threading.Lock()

    def _pace(self, tenant_id: str) -> _TenantPace:
        with self._lock:
            if tenant_id not in self._tenants:
                self._tenants[tenant_id] = _TenantPace(threading.BoundedSemaphore(self.concurrent))
            return self._tenants[tenant_id]

    @contextmanager
    def slot(self, tenant_id: str) -> Iterator[None]:
        """Hold one of the tenant's concurrent slots, after waiting for minute budget."""
        pace = self._pace(tenant_id)
        with pace.slots:
            self._wait_for_budget(pace)
            yield

    def _wait_for_budget(self, pace: _TenantPace) -> None:
        while True:
            with self._lock:
                now = self._monotonic()
                while pace.starts and now - pace.starts[0] >= 60.0:
                    pace.starts.popleft()
                wait = max(pace.blocked_until - now, 0.0)
                if len(pace.starts) >= self.per_minute:
                    wait = max(wait, 60.0 - (now - pace.starts[0]))
                if wait <= 0:
                    pace.starts.append(now)
                    return
            self._sleep(wait)

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        """Learn from Xero's remaining-calls headers (xero-api.md: every response carries
        ``X-DayLimit-Remaining`` and ``X-MinLimit-Remaining``): none left this minute → hold
        off; the day's remaining calls are kept for planning a long history."""
        remaining = headers.get("x-minlimit-remaining")
        if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 0:
            self.hold(tenant_id, 60.0)
        day = headers.get("x-daylimit-remaining")
        if day is not None and day.strip().isdigit():
            pace = self._pace(tenant_id)
            with self._lock:
                pace.day_remaining, pace.day_seen_at = int(day), self._monotonic()

    def day_remaining(self, tenant_id: str, max_age: float = 600.0) -> int | None:
        """Xero's calls left today for ``tenant_id`` as last seen by this process, if seen in
        the last ``max_age`` seconds (the day window resets at a per-tenant time)."""
        pace = self._pace(tenant_id)
        with self._lock:
            if pace.day_remaining is None or self._monotonic() - pace.day_seen_at > max_age:
                return None
            return pace.day_remaining

    def hold(self, tenant_id: str, seconds: float, problem: str = "minute") -> None:
        """Send nothing for ``tenant_id`` (every tenant for ``appminute``) for ``seconds``."""
        if problem == "appminute":
            for other in list(self._tenants):
                self.hold(other, seconds)
        pace = self._pace(tenant_id)
        with self._lock:
            pace.blocked_until = max(pace.blocked_until, self._monotonic() + seconds)
