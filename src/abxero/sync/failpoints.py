"""Named points in the engine where a crash test can kill the process on purpose.

``ABXERO_FAILPOINT=name:n`` makes the n-th arrival at ``name`` kill this process with SIGKILL,
as a power cut or an out-of-memory kill would. Unset (always, outside the crash tests), a
failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENVIRONMENT = "ABXERO_FAILPOINT"
POINTS = (
    "page_stored",
    "plan_chunk_stored",
    "batch_opened",
    "batch_answered",
    "batch_recorded",
    "recovery_done",
)
_arrivals: Counter[str] = Counter()


def reached(name: str) -> None:
    """Die here if the environment asks for it."""
    wanted = os.environ.get(ENVIRONMENT)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _arrivals[name] += 1
    if _arrivals[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
