"""What an organisation's work is doing right now, in words the pages and `abxero status` show.

Four states are told apart, never blurred: **queued** (asked for, no worker has started it),
**running** (a worker holds the organisation's lease; what it is doing and its counts so far),
**done** and **failed**. "Next sync" is never a time in the past without a reason: when a sync
is due it says what it is waiting for (the next scheduler tick, a run already queued or
running, the retry delay after failed runs, Xero's daily limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain.lifecycles import UNSUCCESSFUL_RUN_STATUSES, RunStatus
from abxero.store.models import Lease, SyncRun, XeroConnection

# The four states the pages show (``data-state``); a run row's status maps onto them.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KIND_NAMES = {"sync": "Sync", "import": "Import", "post": "Posting"}


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def doing(counts: Mapping[str, int]) -> str:
    """What a running run is doing, from the counts it has recorded so far."""
    fetched = counts.get("fetched", 0)
    done, total = counts.get("windows_done", 0), counts.get("windows_total", 0)
    if counts.get("posting") and (not total or done >= total):
        posted = counts.get("documents_posted", 0)
        return f"posting to Xero: {posted} documents so far ({fetched} transactions read)"
    window = f", window {min(done + 1, total)} of {total}" if total else ""
    return f"reading from Amazon: {fetched} transactions so far{window}"


def run_state(status: str) -> str:
    """A run row's status as one of the four states."""
    if status == RunStatus.OK:
        return DONE
    if status in UNSUCCESSFUL_RUN_STATUSES:
        return FAILED
    return QUEUED if status == RunStatus.QUEUED else RUNNING


def run_line(status: str, kind: str, counts: Mapping[str, int], since: datetime | None) -> str:
    """One line for a run in any state."""
    name = KIND_NAMES.get(kind, kind.capitalize())
    state = run_state(status)
    if state == QUEUED:
        return f"{name} queued since {_when(since)}: waiting for a free worker, nothing done yet."
    if state == RUNNING:
        return f"{name} running since {_when(since)}, {doing(counts)}."
    if state == DONE:
        return f"{name} done: {counts.get('documents_posted', 0)} documents posted."
    return f"{name} {'interrupted' if status == RunStatus.INTERRUPTED else 'failed'}."


@dataclass(frozen=True)
class CurrentRun:
    """The organisation's current run (running before queued), if any."""

    state: str
    kind: str
    since: datetime | None
    counts: dict[str, int]
    waiting_for: str = ""

    @property
    def line(self) -> str:
        text = run_line(self.state, self.kind, self.counts, self.since)
        return f"{text[:-1]} ({self.waiting_for})." if self.waiting_for else text


def live_lease(session: Session, connection_id: int, now: datetime) -> Lease | None:
    lease = session.get(Lease, f"sync:{connection_id}")
    return lease if lease is not None and lease.expires_at > now else None


def current_activity(session: Session, connection_id: int, now: datetime) -> CurrentRun | None:
    """Running (its worker still holds the lease) before queued; None when idle. A run whose
    worker died is not shown as running: the next run closes it as interrupted."""
    lease = live_lease(session, connection_id, now)
    runs = session.scalars(
        select(SyncRun)
        .where(
            SyncRun.xero_connection_id == connection_id,
            SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        )
        .order_by(SyncRun.id.desc())
    ).all()
    running = [run for run in runs if run.status == RunStatus.RUNNING and lease is not None]
    queued = [run for run in runs if run.status == RunStatus.QUEUED]
    if running:
        run = running[0]
        return CurrentRun(RUNNING, run.kind, run.started_at, dict(run.counts or {}))
    if queued:
        run = queued[-1]  # the oldest request
        waiting = "another worker holds this organisation" if lease is not None else ""
        return CurrentRun(QUEUED, run.kind, run.started_at, {}, waiting)
    return None


def next_sync_note(
    connection: XeroConnection,
    next_at: datetime | None,
    now: datetime,
    activity: CurrentRun | None,
    retry_after: datetime | None,
) -> str:
    """Why the next sync is when it is; empty when it is simply in the future."""
    if next_at is None:
        return ""
    if connection.parked_until and connection.parked_until > now:
        return f"parked until {_when(connection.parked_until)}: Xero's daily API limit was reached"
    if retry_after is not None and retry_after > now:
        return f"waiting until {_when(retry_after)} after failed runs"
    if next_at > now:
        return ""
    if activity is not None and activity.state == RUNNING:
        return "due now; a run is in progress"
    if activity is not None:
        return "due now; a run is queued and waiting for a free worker"
    return "due now; the scheduler queues it within a minute (if no worker runs, start one)"
