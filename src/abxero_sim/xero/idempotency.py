"""``Idempotency-Key``: replay the first response for the same request, refuse a different one."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from abxero_sim.clock import Clock

MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class StoredResponse:
    """The first answer given under a key."""

    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]
    stored_at: datetime


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same request"."""
    digest = hashlib.sha256()
    for part in (method.upper(), path, query, ""):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyStore:
    """Keys per (app, tenant), kept for a window (Xero: 6 minutes)."""

    def __init__(self, clock: Clock, window: timedelta) -> None:
        self._clock = clock
        self.window = window
        self._entries: dict[tuple[str, str, str], StoredResponse] = {}
        self._lock = threading.Lock()

    def lookup(self, scope: tuple[str, str], key: str) -> StoredResponse | None:
        """The stored response for ``key``, unless it has expired."""
        with self._lock:
            entry = self._entries.get((*scope, key))
            if entry is None:
                return None
            if self._clock.now() - entry.stored_at >= self.window:
                del self._entries[(*scope, key)]
                return None
            return entry

    def remember(
        self,
        scope: tuple[str, str],
        key: str,
        print_: str,
        status: int,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        with self._lock:
            self._entries[(*scope, key)] = StoredResponse(
                print_, status, body, headers, self._clock.now()
            )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
