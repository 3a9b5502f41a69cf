"""Client-side pacing that keeps each tenant inside 5 in flight and 60 calls a minute.

:class:`Pacer` counts within one process (tests, single-process tools);
:class:`~abxero.xero.shared_pacing.SharedPacer` counts across every worker (the runtime's choice).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right, insort
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


#: Xero's minute window, and how long a counted call is remembered (two windows, so a call's
#: answer can still be compared with the calls counted before it started).
MINUTE = 60.0
_KEPT = 2 * MINUTE


@dataclass
class _TenantPace:
    slots: threading.BoundedSemaphore
    #: Sorted times of the calls counted: a call's start while it is in flight, its end once
    #: answered (Xero received it in between), and calls Xero counted that we did not make.
    counted: list[float] = field(default_factory=list)
    blocked_until: float = 0.0
    day_remaining: int | None = None
    day_seen_at: float = 0.0


class Pacer:
    """Shared by every client of a process; one instance per app.

    The minute budget is a sliding window of calls, like the shared pacer's
    (:mod:`abxero.xero.shared_pacing`): Xero's own minute window is fixed but starts at a time
    we do not know (docs/xero-api.md §2.1), and a sliding window of ``per_minute`` never lets
    a fixed one overflow. A call counts from its start and, once answered, from its end, so a
    new call goes out only when the window's oldest call reached Xero a full minute ago.
    """

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
        self._calling = threading.local()  # the start of this thread's last call

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
            started = self._wait_for_budget(pace)
            self._calling.started = started
            try:
                yield
            finally:
                with self._lock:
                    _forget(pace.counted, started)
                    insort(pace.counted, self._monotonic())

    def _wait_for_budget(self, pace: _TenantPace) -> float:
        while True:
            with self._lock:
                now = self._monotonic()
                del pace.counted[: bisect_right(pace.counted, now - _KEPT)]
                live = pace.counted[bisect_right(pace.counted, now - MINUTE) :]
                wait = max(pace.blocked_until - now, 0.0)
                if len(live) >= self.per_minute:
                    wait = max(wait, live[len(live) - self.per_minute] + MINUTE - now)
                if wait <= 0:
                    insort(pace.counted, now)
                    return now
            self._sleep(wait)

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        """Learn from Xero's remaining-calls headers (xero-api.md §2.1: every response carries
        ``X-DayLimit-Remaining`` and ``X-MinLimit-Remaining``); the day's remaining calls are
        kept for planning a long history.

        Xero counted ``per_minute - X-MinLimit-Remaining`` calls in its minute window; the
        calls of ours it can have counted are those counted since a minute before this
        thread's call started. Calls it counted beyond those (another client, or calls before
        a restart) are counted here as made now, which is never earlier than Xero received
        them. Only then does a used-up minute also hold the tenant for a whole minute: our
        own earlier calls may lie outside Xero's window, so the sliding window alone cannot
        tell when that window ends. When every call Xero counted is one of ours, the sliding
        window already waits long enough, and holding on top of it would leave the rest of
        each minute unused (it did: every full minute cost 60 s plus the time to fill it)."""
        remaining = header_count(headers.get("x-minlimit-remaining"))
        if remaining is not None:
            pace = self._pace(tenant_id)
            started = getattr(self._calling, "started", None)
            with self._lock:
                now = self._monotonic()
                since = (now if started is None else min(started, now)) - MINUTE
                ours = len(pace.counted) - bisect_right(pace.counted, since)
                missing = self.per_minute - remaining - ours
                for _ in range(missing):
                    insort(pace.counted, now)
                if missing > 0 and remaining <= 0:
                    pace.blocked_until = max(pace.blocked_until, now + MINUTE)
        day = header_count(headers.get("x-daylimit-remaining"))
        if day is not None:
            pace = self._pace(tenant_id)
            with self._lock:
                pace.day_remaining, pace.day_seen_at = day, self._monotonic()

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


def _forget(counted: list[float], at: float) -> None:
    """Drop one call counted at ``at`` (it is counted again at its end)."""
    index = bisect_right(counted, at) - 1
    if index >= 0 and counted[index] == at:
        del counted[index]


def header_count(value: str | None) -> int | None:
    """A count from one of Xero's rate-limit headers, or None when it is absent or not a
    whole number."""
    text = (value or "").strip()
    return int(text) if text.isdigit() else None
