"""What the thread fetching and planning ahead tells the thread posting, and back.

Nothing of the ledger passes through here: planned documents reach the poster only through
the outbox table, so this object holds signals (context known, something planned, done,
stop) and the failure the run must end with, never work that a crash could lose.
"""

from __future__ import annotations

import threading

from abxero.domain.context import OrgContext
from abxero.domain.mapping import MappingConfig
from abxero.sync.run_failures import Subject


class Ahead:
    """The signals between the fetching-and-planning thread and the posting thread."""

    def __init__(self, mapping: MappingConfig | None) -> None:
        self.mapping = mapping
        self.planned = threading.Event()
        self.done = threading.Event()
        self.failure: BaseException | None = None
        self.failed_on: Subject | None = None
        self._context: OrgContext | None = None
        self._context_known = threading.Event()
        self._stopped = threading.Event()

    def start_planning(self, context: OrgContext | None) -> None:
        """The organisation's context once read; ``None`` means: fetch only, plan nothing."""
        self._context = context
        self._context_known.set()

    def planning_context(self) -> OrgContext | None:
        """Wait until the poster has read the context (or given up on it)."""
        self._context_known.wait()
        return self._context

    def stop(self) -> None:
        """End fetching at the next window (the run is interrupted)."""
        self._stopped.set()
        self.start_planning(None)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def fail(self, problem: BaseException, subject: Subject | None) -> None:
        self.failure, self.failed_on = problem, subject

    def finish(self) -> None:
        self.done.set()
        self.planned.set()
