"""The background tasks: thin and idempotent; the engine and its lease do the real work.

``Jobs`` registers the tasks on two huey queues (see ``queue.py``): syncs, imports and posts on
the main queue, user work ahead of scheduled work; invoice PDFs on their own queue and threads.
The worker process and the web process build the same ``Jobs`` (each with its own
:class:`~abxero.runtime.Runtime`), so the web enqueues exactly what a worker runs.

No pile-ups: each organisation has at most one pending sync, one pending post and one pending
attach, remembered by a marker in the queue's own key-value store (so a queue that is lost
loses its markers with its tasks). Enqueueing again is a no-op, except that a user's request
upgrades a pending scheduled sync to user priority. A task runs only while its marker is the
current one; a superseded task does nothing. A scheduled task that finds the organisation's
lease taken does nothing (the running sync does the work); a user's finds it taken and comes
back once a few seconds later, still the one pending task, so the click is honoured after the
running sync without a retry storm. A tick that finds another tick queued behind it does
nothing, and a tick older than a minute expires unrun, so ticks never stack.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from huey import Huey, crontab
from sqlalchemy import delete, or_, select

from abxero.domain.lifecycles import AttachmentStatus, DocumentStatus, RunStatus
from abxero.jobs.queue import (
    SCHEDULED_PRIORITY,
    TICK_PRIORITY,
    USER_PRIORITY,
    lane_queue,
)
from abxero.logs import get_logger
from abxero.runtime import Runtime
from abxero.store.db import transaction
from abxero.store.models import (
    OutboxDocument,
    SyncRun,
)
from abxero.sync import due
from abxero.sync.engine import SyncReport
from abxero.sync.leases import LeaseBusy

log = get_logger(__name__)

USER, SCHEDULED = "user", "scheduled"
PRIORITIES = {USER: USER_PRIORITY, SCHEDULED: SCHEDULED_PRIORITY}
BUSY_RETRY_SECONDS = 3
"""How soon a user's task that found the organisation busy looks again (one pending task)."""
TICK_EXPIRES = timedelta(seconds=55)
ATTACH_BATCH = 5
"""Invoice PDFs per attach task; a task that did a full batch queues the next at once."""
ATTACH_RETRY = timedelta(minutes=1)
"""When Amazon or Xero asked us to wait without saying how long."""


def _pending_key(kind: str, connection_id: int) -> str:
    return f"pending:{kind}:{connection_id}"


class Jobs:
    """The tasks of one queue and its PDF lane, bound to a lazily built runtime."""

    def __init__(
        self,
        queue: Huey,
        runtime: Callable[[], Runtime],
        *,
        periodic: bool = True,
        pdf_queue: Huey | None = None,
    ) -> None:
        self.queue = queue
        self.pdf_queue = pdf_queue if pdf_queue is not None else lane_queue(queue)
        self._runtime = runtime
        self._sync = queue.task(name="sync_connection")(self.sync_connection)
        self._import = queue.task(name="import_range", priority=USER_PRIORITY)(self.import_range)
        self._post = queue.task(name="post_pending")(self.post_pending)
        self._attach = self.pdf_queue.task(name="attach_documents")(self.attach_documents)
        self._reconcile = queue.task(name="reconcile_connection")(self.reconcile_connection)
        self._alerts = queue.task(name="alerts")(self.alerts)
        self.tick_task: Any = None
        if periodic:
            self.tick_task = queue.periodic_task(
                crontab(minute="*"), name="tick", priority=TICK_PRIORITY, expires=TICK_EXPIRES
            )(self.tick)

    # -- what callers enqueue --------------------------------------------------------------

    def enqueue_sync(self, connection_id: int, *, user: bool = True) -> int | None:
        """Ask for a sync: ``user`` for a click (sync now, finish, retry), else background.
        Returns the queued run a user's request is shown as (None for background work)."""
        return self._enqueue_run(connection_id, "sync", user)

    def enqueue_import(self, connection_id: int, start: datetime, end: datetime) -> int:
        """Queue an import of ``[start, end)``; returns the run id its progress is read from."""
        run_id = self._pending_run(connection_id, "import", start, end)
        self._import(connection_id, start.isoformat(), end.isoformat(), run_id, True)
        return run_id

    def enqueue_post(self, connection_id: int) -> None:
        """Post what is stored (after a remapping): user work."""
        self._enqueue_run(connection_id, "post", True)

    def enqueue_reconcile(self, connection_id: int, since: str, until: str) -> None:
        """Queue a reconciliation check of the days ``since`` to ``until`` (ISO dates): user
        work, ahead of scheduled syncs."""
        self._reconcile(connection_id, since, until, "manual", priority=USER_PRIORITY)

    def enqueue_attach(self, connection_id: int, delay: timedelta | None = None) -> None:
        """Queue the PDF lane of an organisation unless it already has a task pending."""
        token = uuid.uuid4().hex
        if not self.pdf_queue.put_if_empty(_pending_key("attach", connection_id), token):
            return
        if delay:
            self._attach.schedule((connection_id, token), delay=delay.total_seconds())
        else:
            self._attach(connection_id, token)

    def pending(self, connection_id: int) -> dict[str, str]:
        """What is waiting in the queue for an organisation: kind → lane."""
        found: dict[str, str] = {}
        for kind in ("sync", "post"):
            marker = self.queue.get(_pending_key(kind, connection_id), peek=True)
            if isinstance(marker, dict):
                found[kind] = str(marker.get("lane", USER))
        if self.pdf_queue.get(_pending_key("attach", connection_id), peek=True) is not None:
            found["attach"] = SCHEDULED
        return found

    # -- the task bodies (also callable directly, without a token) -----------------------------

    def tick(self) -> list[int]:
        """Enqueue every organisation whose sync is due, and the attaching lane of every
        organisation; returns the ids of those due a sync. Does nothing when another tick is
        queued behind this one: that one will."""
        if any(task.name == "tick" for task in self.queue.pending()):
            return []
        runtime = self._runtime()
        due = due_connections(runtime)
        for connection_id in due:
            self.enqueue_sync(connection_id, user=False)
        for connection_id in attaching_connections(runtime):
            self.enqueue_attach(connection_id)
        self._queue_daily_checks(runtime)
        self._queue_once(self._alerts, "alerts", 0)
        return due

    def _queue_once(self, task: Any, kind: str, connection_id: int, *args: Any) -> None:
        """Queue ``task`` unless one of its kind is already pending for the organisation, so
        a busy queue never stacks a minute's worth of the same background work."""
        token = uuid.uuid4().hex
        if self.queue.put_if_empty(_pending_key(kind, connection_id), token):
            task(*args, token=token)

    def _queue_daily_checks(self, runtime: Runtime) -> None:
        from abxero.services.reconcile import reconciliation_due

        for connection_id in reconciliation_due(runtime.sessions, runtime.now()):
            self._queue_once(
                self._reconcile, "reconcile", connection_id, connection_id, "", "", "daily"
            )

    def reconcile_connection(
        self,
        connection_id: int,
        since: str,
        until: str,
        trigger: str = "manual",
        token: str | None = None,
    ) -> dict[str, Any]:
        """Check that Xero holds what Amazon charged over the period; the result is stored.
        The daily check covers the last 90 days and runs at most once a day."""
        from datetime import date

        from abxero.services.reconcile import Period, run_check, run_daily

        if not self._claim(self.queue, _pending_key("reconcile", connection_id), token):
            return {"skipped": "superseded"}
        runtime = self._runtime()
        if trigger == "daily":
            row = run_daily(runtime, connection_id)
        else:
            period = Period(date.fromisoformat(since), date.fromisoformat(until))
            row = run_check(runtime, connection_id, period, trigger)
        if row is None:
            return {"skipped": "not due"}
        return {"status": row.status, "differences": row.differences, "id": row.id}

    def attach_documents(self, connection_id: int, token: str | None = None) -> dict[str, Any]:
        """Attach a few invoice PDFs. The Document API allows about one report a minute: when
        Amazon asks us to wait, the task gives its thread back and comes back at that time."""
        if not self._claim(self.pdf_queue, _pending_key("attach", connection_id), token):
            return {"skipped": "superseded"}
        try:
            report = self._runtime().attachment_lane(connection_id).run(limit=ATTACH_BATCH)
        except LeaseBusy:
            return {"skipped": "busy"}
        done = report.attached + report.unavailable + report.failed
        if report.deferred:
            wait = report.retry_after or ATTACH_RETRY
            self.enqueue_attach(connection_id, delay=wait)
        elif done >= ATTACH_BATCH:
            self.enqueue_attach(connection_id)
        return {
            "attached": report.attached,
            "unavailable": report.unavailable,
            "summaries": report.summaries,
            "reasked": report.reasked,
        }

    def alerts(self, token: str | None = None) -> dict[str, Any]:
        """Evaluate every organisation's alerts and send the deliveries that are due."""
        if not self._claim(self.queue, _pending_key("alerts", 0), token):
            return {"skipped": "superseded"}
        from abxero.alerts import service  # loaded when the alerts lane first runs

        return service.run(self._runtime())

    def sync_connection(
        self, connection_id: int, run_id: int | None = None, token: str | None = None
    ) -> dict[str, Any]:
        return self._run_task(connection_id, "sync", run_id, token)

    def post_pending(
        self, connection_id: int, run_id: int | None = None, token: str | None = None
    ) -> dict[str, Any]:
        return self._run_task(connection_id, "post", run_id, token)

    def import_range(
        self,
        connection_id: int,
        start: str,
        end: str,
        run_id: int | None = None,
        queued: bool = False,
    ) -> dict[str, Any]:
        """Import ``[start, end)``. Queued by a user: an organisation busy with another run is
        tried again in a few seconds, so the import the page shows as queued does start."""
        begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
        result = self._engine_call(
            connection_id, lambda engine: engine.import_range(begin, finish, run_id)
        )
        if queued and result.get("skipped") == "busy":
            self._import.schedule(
                (connection_id, start, end, run_id, True),
                delay=BUSY_RETRY_SECONDS,
                priority=USER_PRIORITY,
            )
        return result

    # -- the pending markers ---------------------------------------------------------------------

    def _enqueue_run(self, connection_id: int, kind: str, user: bool) -> int | None:
        key, lane = _pending_key(kind, connection_id), USER if user else SCHEDULED
        pending = self.queue.get(key, peek=True)
        if isinstance(pending, dict) and (pending.get("lane") == USER or not user):
            return pending.get("run_id")  # already waiting, at this priority or higher
        run_id = self._queued_run(connection_id, kind) if user else None
        marker = {"token": uuid.uuid4().hex, "lane": lane, "run_id": run_id}
        if pending is None:
            if not self.queue.put_if_empty(key, marker):
                self._forget_run(run_id)  # another process queued it a moment ago
                return None
        else:
            self.queue.put(key, marker)  # upgrade: the scheduled task is superseded
        self._task_of(kind)(connection_id, run_id, marker["token"], priority=PRIORITIES[lane])
        return run_id

    def _task_of(self, kind: str) -> Any:
        return self._sync if kind == "sync" else self._post

    @staticmethod
    def _claim(queue: Huey, key: str, token: str | None) -> bool:
        """Take this task's pending marker; False when the task was superseded."""
        if token is None:
            return True  # called directly, not through the queue
        marker = queue.get(key)
        mine = marker == token or (isinstance(marker, dict) and marker.get("token") == token)
        if not mine and marker is not None:
            queue.put_if_empty(key, marker)  # someone else's: put it back
        return mine

    def _run_task(
        self, connection_id: int, kind: str, run_id: int | None, token: str | None
    ) -> dict[str, Any]:
        key = _pending_key(kind, connection_id)
        marker = self.queue.get(key, peek=True)
        if not self._claim(self.queue, key, token):
            return {"skipped": "superseded"}
        lane = marker.get("lane", USER) if isinstance(marker, dict) and token else USER
        self._drop_stale_runs(connection_id, kind, run_id)
        try:
            report = self._engine(connection_id, kind, run_id)
        except LeaseBusy:
            if token is None:
                return {"skipped": "busy"}  # called directly: the caller decides
            return self._busy(connection_id, kind, run_id, lane)
        return report.counts() | {"error": report.error}

    def _engine(self, connection_id: int, kind: str, run_id: int | None) -> SyncReport:
        engine = self._runtime().engine_for(connection_id)
        return engine.sync(run_id) if kind == "sync" else engine.post_pending(run_id)

    def _busy(self, connection_id: int, kind: str, run_id: int | None, lane: str) -> dict[str, Any]:
        """Another run holds the organisation. A scheduled task has nothing to add; a user's
        comes back once, in a few seconds, as the one pending task of its kind."""
        log.info("organisation busy", connection_id=connection_id, kind=kind, lane=lane)
        if lane != USER:
            self._forget_run(run_id)
            return {"skipped": "busy"}
        marker = {"token": uuid.uuid4().hex, "lane": USER, "run_id": run_id}
        if self.queue.put_if_empty(_pending_key(kind, connection_id), marker):
            self._task_of(kind).schedule(
                (connection_id, run_id, marker["token"]),
                delay=BUSY_RETRY_SECONDS,
                priority=USER_PRIORITY,
            )
        else:
            self._forget_run(run_id)  # a newer request is pending and carries its own run
        return {"skipped": "busy", "again_in_seconds": BUSY_RETRY_SECONDS}

    def _engine_call(self, connection_id: int, work: Callable[[Any], SyncReport]) -> dict[str, Any]:
        runtime = self._runtime()
        try:
            report = work(runtime.engine_for(connection_id))
        except LeaseBusy:
            log.info("sync already running", connection_id=connection_id)
            return {"skipped": "busy"}
        return report.counts() | {"error": report.error}

    def _queued_run(self, connection_id: int, kind: str) -> int:
        """A ``queued`` run row the pages show until a worker starts it."""
        runtime = self._runtime()
        with transaction(runtime.sessions) as session:
            run = SyncRun(
                xero_connection_id=connection_id,
                kind=kind,
                status=RunStatus.QUEUED,
                started_at=runtime.now(),
            )
            session.add(run)
            session.flush()
            return run.id

    def _forget_run(self, run_id: int | None) -> None:
        """Drop a queued run row that will never start (its request is covered by another)."""
        if run_id is None:
            return
        with transaction(self._runtime().sessions) as session:
            session.execute(
                delete(SyncRun).where(SyncRun.id == run_id, SyncRun.status == RunStatus.QUEUED)
            )

    def _drop_stale_runs(self, connection_id: int, kind: str, run_id: int | None) -> None:
        """Queued rows of ``kind`` whose task was lost (a flushed queue) or superseded: this
        run covers them, and none is pending any more once this task holds its marker."""
        pending = self.queue.get(_pending_key(kind, connection_id), peek=True)
        keep = {run_id, pending.get("run_id") if isinstance(pending, dict) else None} - {None}
        with transaction(self._runtime().sessions) as session:
            session.execute(
                delete(SyncRun).where(
                    SyncRun.xero_connection_id == connection_id,
                    SyncRun.kind == kind,
                    SyncRun.status == RunStatus.QUEUED,
                    SyncRun.id.not_in(keep),
                )
            )

    def _pending_run(self, connection_id: int, kind: str, start: datetime, end: datetime) -> int:
        runtime = self._runtime()
        with transaction(runtime.sessions) as session:
            run = SyncRun(
                xero_connection_id=connection_id,
                kind=kind,
                status=RunStatus.QUEUED,
                range_start=start,
                range_end=end,
                started_at=runtime.now(),
            )
            session.add(run)
            session.flush()
            return run.id


def due_connections(runtime: Runtime) -> list[int]:
    """Organisations set up, connected on both sides, not parked, past their interval, and
    not waiting out the retry delay after failed runs (the rule: domain/due.py)."""
    with runtime.sessions() as session:
        return due.due_connections(session, runtime.now())


def attaching_connections(runtime: Runtime) -> list[int]:
    """Organisations with posted bills or credit notes whose PDF is not settled yet or is due
    to be asked for again, or a posted document whose purchase summary may still be due."""
    now = runtime.now()
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(OutboxDocument.xero_connection_id)
                .where(
                    OutboxDocument.status == DocumentStatus.POSTED,
                    or_(
                        OutboxDocument.role.in_(["bill", "credit_note"])
                        & (OutboxDocument.attachment == ""),
                        # Amazon refused the PDF; asked again daily (sync/attachments.py)
                        OutboxDocument.attachment_next_ask_at <= now,
                        # a purchase summary still to attach (sync/summaries.py)
                        (OutboxDocument.summary == "")
                        & (OutboxDocument.attachment != AttachmentStatus.ATTACHED),
                    ),
                )
                .distinct()
            )
        )
