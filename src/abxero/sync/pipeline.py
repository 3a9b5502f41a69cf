"""What the thread fetching and planning ahead tells the thread posting, and back.

Nothing of the ledger passes through here: planned documents reach the poster only through
the outbox table, so this object holds signals (context known, something planned, done,
stop) and the failure the run must end with, never work that a crash could lose.

The planning thread runs at most :data:`AHEAD_PAGES` pages ahead of the poster: once it has
planned that many pages since the poster last ran out of full batches, it waits for the poster
to catch up. Both threads share one interpreter and the ledger lock, and the poster's work is
what Xero's minute budget waits for; a planner running thousands of documents ahead only
slowed the poster down (a 10,000-transaction import posted 12 to 27 calls a minute of 60
while the feed was read, the rest of the budget unused).
"""

from __future__ import annotations

import threading

from abxero.domain.context import OrgContext
from abxero.domain.mapping import MappingConfig
from abxero.sync.run_failures import Subject

#: Pages (of up to 100 transactions, a few full batches each) the planner may plan past the
#: point where the poster last ran out of full batches.
AHEAD_PAGES = 8
#: How often a planner waiting for the poster looks again (it is also woken).
_CATCH_UP_WAIT = 0.2


class _Planned(threading.Event):
    """Set when something was planned; the poster waiting on it means it ran out of work."""

    def __init__(self, ahead: Ahead) -> None:
        super().__init__()
        self._ahead = ahead

    def set(self) -> None:
        self._ahead.planned_one()
        super().set()

    def wait(self, timeout: float | None = None) -> bool:
        self._ahead.caught_up()
        return super().wait(timeout)


class Ahead:
    """The signals between the fetching-and-planning thread and the posting thread."""

    def __init__(self, mapping: MappingConfig | None) -> None:
        self.mapping = mapping
        self.planned: threading.Event = _Planned(self)
        self.pages_ahead = 0
        self._turn = threading.Condition()
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
        with self._turn:
            self._turn.notify_all()

    def planning_context(self) -> OrgContext | None:
        """Wait until the poster has read the context (or given up on it) and is no more
        than :data:`AHEAD_PAGES` pages behind."""
        self._context_known.wait()
        with self._turn:
            while (
                self.pages_ahead >= AHEAD_PAGES
                and self._context is not None
                and not self._stopped.is_set()
            ):
                self._turn.wait(_CATCH_UP_WAIT)
        return self._context

    def planned_one(self) -> None:
        with self._turn:
            self.pages_ahead += 1

    def caught_up(self) -> None:
        """The poster has sent every full batch planned so far."""
        with self._turn:
            self.pages_ahead = 0
            self._turn.notify_all()

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
