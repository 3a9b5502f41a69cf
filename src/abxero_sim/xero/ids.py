"""Deterministic GUIDs and secrets derived from the simulator's seed."""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid


def stable_guid(seed: int, *parts: str) -> str:
    """A GUID that depends only on ``seed`` and ``parts``."""
    digest = hashlib.sha256(":".join((str(seed), *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


class IdSource:
    """Hands out a reproducible sequence of GUIDs and opaque tokens for one run."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def guid(self, kind: str) -> str:
        """The next GUID of the sequence, labelled by ``kind``."""
        with self._lock:
            number = next(self._counter)
        return stable_guid(self._seed, kind, str(number))

    def token(self, kind: str) -> str:
        """The next opaque token (hex) of the sequence."""
        with self._lock:
            number = next(self._counter)
        raw = f"{self._seed}:{kind}:{number}".encode()
        return hashlib.sha256(raw).hexdigest()


ZERO_GUID = "00000000-0000-0000-0000-000000000000"
