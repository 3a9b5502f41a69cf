"""Named points in the engine where a test can make a run fail on purpose.

``ABXERO_FAILPOINT=name[@subject][:n][:raise]``:

* ``name:n`` kills this process with SIGKILL at the n-th arrival at ``name``, as a power cut or
  an out-of-memory kill would (the crash tests);
* ``name:n:raise`` raises :class:`FailpointError` there instead, as a bug in our code or a
  library would (the failed-run tests); ``n`` may be ``*`` for every arrival;
* ``name@subject`` only counts arrivals about that subject (a transaction id, a batch id), so a
  test can make one document poison;
* several specifications may be given, separated by commas.

Unset (always, outside the tests), a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from dataclasses import dataclass

ENVIRONMENT = "ABXERO_FAILPOINT"
POINTS = (
    "page_stored",
    "context_read",
    "source_planning",
    "plan_chunk_stored",
    "batch_opened",
    "batch_answered",
    "batch_recorded",
    "batch_reconciling",
    "recovery_done",
    "rollback_intent",
    "rollback_answered",
    "rollback_recorded",
    "rollback_settled",
)
EVERY = "*"
_arrivals: Counter[tuple[str, str]] = Counter()


class FailpointError(RuntimeError):
    """Raised at a failpoint armed with ``:raise``."""


@dataclass(frozen=True)
class Armed:
    point: str
    subject: str
    count: str
    action: str

    @classmethod
    def parse(cls, wanted: str) -> Armed:
        target, _, rest = wanted.partition(":")
        point, _, subject = target.partition("@")
        count, _, action = rest.partition(":")
        return cls(point, subject, count or "1", action or "kill")

    def fires(self, arrival: int) -> bool:
        return self.count == EVERY or arrival == int(self.count)


def reached(name: str, subject: str = "") -> None:
    """Die (or raise) here if the environment asks for it."""
    wanted = os.environ.get(ENVIRONMENT)
    if not wanted:
        return
    for specification in wanted.split(","):
        _check(Armed.parse(specification), specification, name, subject)


def _check(armed: Armed, specification: str, name: str, subject: str) -> None:
    if armed.point != name or (armed.subject and armed.subject != subject):
        return
    _arrivals[(specification, name)] += 1
    if not armed.fires(_arrivals[(specification, name)]):
        return
    if armed.action == "raise":
        raise FailpointError(f"failpoint {name}{'@' + subject if subject else ''} reached")
    os.kill(os.getpid(), signal.SIGKILL)


def reset() -> None:
    """Forget the arrivals counted so far (tests that arm failpoints in-process)."""
    _arrivals.clear()
