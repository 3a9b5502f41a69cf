"""Clocks the simulators read, so tests can move time instead of waiting for it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where a simulator gets the current time and waits."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; for rate windows."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to; safe to share between threads."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._offset += seconds

    def set(self, moment: datetime) -> None:
        with self._lock:
            delta = (moment - self._now).total_seconds()
            self._now = moment
            self._offset += max(delta, 0.0)


class SimClock:
    """A simulator's time: the injected clock plus an offset that ``/_sim/clock`` moves.

    Everything that reads time (token expiry, rate windows, idempotency windows, page-token
    ages, document dates) reads this clock, so moving it moves them all.
    """

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = 0.0

    def now(self) -> datetime:
        return self.base.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.base.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        """Move forward (never back: rate windows and expiry assume time only grows)."""
        self.offset += max(seconds, 0.0)
