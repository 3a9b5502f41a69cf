"""Xero's rate limits: per organisation 5 in flight, 60 a minute, 5,000 a day; app per minute."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from abxero_sim.clock import Clock


@dataclass(frozen=True)
class LimitSettings:
    """The limits, as knobs (Xero's values by default)."""

    concurrent: int = 5
    per_minute: int = 60
    per_day: int = 5000
    app_per_minute: int = 10_000


@dataclass
class _Window:
    length: float
    started: float = -math.inf
    used: int = 0

    def roll(self, now: float) -> None:
        if now - self.started >= self.length:
            self.started, self.used = now, 0

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.started + self.length - now))


@dataclass
class _TenantUsage:
    minute: _Window = field(default_factory=lambda: _Window(60.0))
    day: _Window = field(default_factory=lambda: _Window(86_400.0))
    in_flight: int = 0


@dataclass(frozen=True)
class Admission:
    """The verdict on one request: allowed (with remaining counts) or refused."""

    allowed: bool
    problem: str | None = None
    retry_after: int = 0
    minute_remaining: int = 0
    day_remaining: int = 0
    app_minute_remaining: int = 0

    def headers(self) -> dict[str, str]:
        """The rate-limit headers Xero sends with this response."""
        headers = {
            "X-MinLimit-Remaining": str(self.minute_remaining),
            "X-DayLimit-Remaining": str(self.day_remaining),
            "X-AppMinLimit-Remaining": str(self.app_minute_remaining),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
            headers["X-Rate-Limit-Problem"] = str(self.problem)
        return headers


class RateLimiter:
    """Fixed windows per tenant and for the whole app, on the simulator's clock."""

    def __init__(self, clock: Clock, settings: LimitSettings) -> None:
        self._clock = clock
        self.settings = settings
        self._tenants: dict[str, _TenantUsage] = {}
        self._app = _Window(60.0)
        self._lock = threading.Lock()

    def admit(self, tenant_id: str) -> Admission:
        """Count a request for ``tenant_id`` or refuse it with the limit it broke."""
        with self._lock:
            now = self._clock.monotonic()
            usage = self._tenants.setdefault(tenant_id, _TenantUsage())
            for window in (usage.minute, usage.day, self._app):
                window.roll(now)
            problem, retry = self._problem(usage, now)
            if problem is None:
                usage.minute.used += 1
                usage.day.used += 1
                self._app.used += 1
                usage.in_flight += 1
            return Admission(
                allowed=problem is None,
                problem=problem,
                retry_after=retry,
                minute_remaining=max(0, self.settings.per_minute - usage.minute.used),
                day_remaining=max(0, self.settings.per_day - usage.day.used),
                app_minute_remaining=max(0, self.settings.app_per_minute - self._app.used),
            )

    def _problem(self, usage: _TenantUsage, now: float) -> tuple[str | None, int]:
        limits = self.settings
        if usage.day.used >= limits.per_day:
            return "day", usage.day.retry_after(now)
        if self._app.used >= limits.app_per_minute:
            return "appminute", self._app.retry_after(now)
        if usage.minute.used >= limits.per_minute:
            return "minute", usage.minute.retry_after(now)
        if usage.in_flight >= limits.concurrent:
            return "concurrent", 1
        return None, 0

    def release(self, tenant_id: str) -> None:
        """A request admitted for ``tenant_id`` has finished."""
        with self._lock:
            usage = self._tenants.get(tenant_id)
            if usage is not None and usage.in_flight > 0:
                usage.in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            self._tenants.clear()
            self._app = _Window(60.0)
