"""The background tasks: thin and idempotent; the engine and its lease do the real work.

``Jobs`` registers the tasks on a huey instance. The worker process and the web process build
the same ``Jobs`` (each with its own :class:`~abxero.runtime.Runtime`), so the web enqueues
exactly what a worker runs. A task for an organisation that is already syncing finds the lease
taken and does nothing: the running sync picks the work up, or the next tick does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from huey import Huey, crontab
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from abxero.logs import get_logger
from abxero.runtime import Runtime
from abxero.store.db import transaction
from abxero.store.models import (
    AmazonConnection,
    EntityRoute,
    OutboxDocument,
    SyncRun,
    XeroConnection,
)
from abxero.sync.engine import SyncReport
from abxero.sync.leases import LeaseBusy
from abxero.sync.run_failures import UNSUCCESSFUL_RUN_STATUSES

log = get_logger(__name__)


class Jobs:
    """The tasks of one queue, bound to a lazily built runtime."""

    def __init__(
        self, queue: Huey, runtime: Callable[[], Runtime], *, periodic: bool = True
    ) -> None:
        self.queue = queue
        self._runtime = runtime
        self._sync = queue.task(name="sync_connection")(self.sync_connection)
        self._import = queue.task(name="import_range")(self.import_range)
        self._post = queue.task(name="post_pending")(self.post_pending)
        self._attach = queue.task(name="attach_documents")(self.attach_documents)
        self._reconcile = queue.task(name="reconcile_connection")(self.reconcile_connection)
        self._alerts = queue.task(name="alerts")(self.alerts)
        if periodic:
            queue.periodic_task(crontab(minute="*"), name="tick")(self.tick)

    # -- what callers enqueue --------------------------------------------------------------

    def enqueue_sync(self, connection_id: int) -> None:
        self._sync(connection_id)

    def enqueue_import(self, connection_id: int, start: datetime, end: datetime) -> int:
        """Queue an import of ``[start, end)``; returns the run id its progress is read from."""
        run_id = self._pending_run(connection_id, "import", start, end)
        self._import(connection_id, start.isoformat(), end.isoformat(), run_id)
        return run_id

    def enqueue_post(self, connection_id: int) -> None:
        self._post(connection_id)

    def enqueue_reconcile(self, connection_id: int, since: str, until: str) -> None:
        """Queue a reconciliation check of the days ``since`` to ``until`` (ISO dates)."""
        self._reconcile(connection_id, since, until, "manual")

    # -- the task bodies (also callable directly) --------------------------------------------

    def tick(self) -> list[int]:
        """Enqueue every organisation whose sync is due, and the attaching lane of every
        organisation; returns the ids of those due a sync."""
        runtime = self._runtime()
        due = due_connections(runtime)
        for connection_id in due:
            self._sync(connection_id)
        for connection_id in attaching_connections(runtime):
            self._attach(connection_id)
        self._queue_daily_checks(runtime)
        self._alerts()
        return due

    def _queue_daily_checks(self, runtime: Runtime) -> None:
        from abxero.services.reconcile import reconciliation_due

        for connection_id in reconciliation_due(runtime):
            self._reconcile(connection_id, "", "", "daily")

    def reconcile_connection(
        self, connection_id: int, since: str, until: str, trigger: str = "manual"
    ) -> dict[str, Any]:
        """Check that Xero holds what Amazon charged over the period; the result is stored.
        The daily check covers the last 90 days and runs at most once a day."""
        from datetime import date

        from abxero.services.reconcile import Period, run_check, run_daily

        runtime = self._runtime()
        if trigger == "daily":
            row = run_daily(runtime, connection_id)
        else:
            period = Period(date.fromisoformat(since), date.fromisoformat(until))
            row = run_check(runtime, connection_id, period, trigger)
        if row is None:
            return {"skipped": "not due"}
        return {"status": row.status, "differences": row.differences, "id": row.id}

    def attach_documents(self, connection_id: int) -> dict[str, Any]:
        """Attach a few invoice PDFs (the Document API allows about one a minute)."""
        try:
            report = self._runtime().attachment_lane(connection_id).run()
        except LeaseBusy:
            return {"skipped": "busy"}
        return {
            "attached": report.attached,
            "unavailable": report.unavailable,
            "summaries": report.summaries,
            "reasked": report.reasked,
        }

    def alerts(self) -> dict[str, Any]:
        """Evaluate every organisation's alerts and send the deliveries that are due."""
        from abxero.alerts import service  # here: it imports failing_since from this module

        return service.run(self._runtime())

    def sync_connection(self, connection_id: int) -> dict[str, Any]:
        return self._engine_call(connection_id, lambda engine: engine.sync())

    def post_pending(self, connection_id: int) -> dict[str, Any]:
        return self._engine_call(connection_id, lambda engine: engine.post_pending())

    def import_range(
        self, connection_id: int, start: str, end: str, run_id: int | None = None
    ) -> dict[str, Any]:
        begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
        return self._engine_call(
            connection_id, lambda engine: engine.import_range(begin, finish, run_id)
        )

    def _engine_call(self, connection_id: int, work: Callable[[Any], SyncReport]) -> dict[str, Any]:
        runtime = self._runtime()
        try:
            report = work(runtime.engine_for(connection_id))
        except LeaseBusy:
            log.info("sync already running", connection_id=connection_id)
            return {"skipped": "busy"}
        return report.counts() | {"error": report.error}

    def _pending_run(self, connection_id: int, kind: str, start: datetime, end: datetime) -> int:
        runtime = self._runtime()
        with transaction(runtime.sessions) as session:
            run = SyncRun(
                xero_connection_id=connection_id,
                kind=kind,
                status="queued",
                range_start=start,
                range_end=end,
                started_at=runtime.now(),
            )
            session.add(run)
            session.flush()
            return run.id


def retry_delay(failures: int, interval: timedelta) -> timedelta:
    """How long after a failed run the scheduler tries again: 2, 4, 8 … minutes, at most the
    organisation's interval. A failing run no longer moves ``last_sync_at``; without this the
    minute tick would retry it every minute and spend the organisation's 5,000 Xero calls a
    day on failures."""
    return min(timedelta(minutes=2 ** min(max(failures, 1), 10)), interval)


def failing_since(session: Session, connection_id: int) -> tuple[int, datetime | None]:
    """How many finished runs in a row failed most recently, and when the last one ended."""
    recent = session.scalars(
        select(SyncRun)
        .where(SyncRun.xero_connection_id == connection_id, SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc())
        .limit(10)
    ).all()
    failures = 0
    for run in recent:
        if run.status not in UNSUCCESSFUL_RUN_STATUSES:  # a killed run counts as a failure
            break
        failures += 1
    return failures, (recent[0].finished_at if failures else None)


def _backing_off(session: Session, connection: XeroConnection, now: datetime) -> bool:
    failures, last_failed = failing_since(session, connection.id)
    if not failures or last_failed is None:
        return False
    interval = timedelta(minutes=connection.sync_interval_minutes)
    return now < last_failed + retry_delay(failures, interval)


def due_connections(runtime: Runtime) -> list[int]:
    """Organisations set up, connected on both sides, not parked, past their interval, and
    not waiting out the retry delay after failed runs."""
    now = runtime.now()
    with runtime.sessions() as session:
        paired = select(AmazonConnection.xero_connection_id).where(
            AmazonConnection.status == "connected"
        )
        fed = select(EntityRoute.target_connection_id).where(
            EntityRoute.home_connection_id.in_(paired)
        )  # organisations another's feed routes legal entities to (sync/routing.py)
        rows = session.execute(
            select(XeroConnection).where(
                XeroConnection.setup_step == "done",
                XeroConnection.status == "connected",
                or_(XeroConnection.id.in_(paired), XeroConnection.id.in_(fed)),
            )
        ).scalars()
        return [
            connection.id
            for connection in rows
            if (connection.parked_until is None or connection.parked_until <= now)
            and (
                connection.last_sync_at is None
                or connection.last_sync_at + timedelta(minutes=connection.sync_interval_minutes)
                <= now
            )
            and not _backing_off(session, connection, now)
        ]


def attaching_connections(runtime: Runtime) -> list[int]:
    """Organisations with posted bills or credit notes whose PDF is not settled yet or is due
    to be asked for again, or a posted document whose purchase summary may still be due."""
    now = runtime.now()
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(OutboxDocument.xero_connection_id)
                .where(
                    OutboxDocument.status == "posted",
                    or_(
                        OutboxDocument.role.in_(["bill", "credit_note"])
                        & (OutboxDocument.attachment == ""),
                        # Amazon refused the PDF; asked again daily (sync/attachments.py)
                        OutboxDocument.attachment_next_ask_at <= now,
                        # a purchase summary still to attach (sync/summaries.py)
                        (OutboxDocument.summary == "") & (OutboxDocument.attachment != "attached"),
                    ),
                )
                .distinct()
            )
        )
