"""The run row: started (closing runs whose worker died), finished, and a failure recorded
with its cause and remedy (``run_failures.py``) or as an outside system's condition."""

from __future__ import annotations

import contextlib

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import due
from abxero.domain.lifecycles import ConnectionStatus, RunStatus
from abxero.store.db import transaction
from abxero.store.models import SyncRun, XeroConnection
from abxero.sync import run_failures
from abxero.sync.ports import ComeBackAt, NeedsReconnect, SideError, TryLater
from abxero.sync.posting import Posting
from abxero.sync.report import SyncReport

log = structlog.get_logger("abxero.sync.engine")


def _log_failure(connection_id: int, run_id: int, problem: Exception) -> None:
    """Log the failed run; a broken log stream must not hide the failure itself (it is already
    recorded on the run row and as an event), as stdlib logging also swallows.

    An outside system's refusal is logged as its cause alone: the traceback says nothing more
    and would bury the message on a terminal. Anything else keeps its traceback.
    """
    with contextlib.suppress(Exception):
        if run_failures.is_outside_refusal(problem):
            log.error(
                "sync run failed",
                connection_id=connection_id,
                run_id=run_id,
                cause=run_failures.cause_of(problem),
            )
        else:
            log.exception("sync run failed", connection_id=connection_id, run_id=run_id)


class Runs(Posting):
    """The run rows of one organisation (a failing subject is isolated as ``Posting`` does)."""

    def _may_post(self, connection: XeroConnection) -> bool:
        return due.may_post(
            connection.setup_step, connection.status, connection.parked_until, self._now()
        )

    def _start_run(self, kind: str, run_id: int | None) -> int:
        """A new run row, or the queued one the caller made (so its progress bar follows).
        We hold the organisation's lease, so any other run still marked ``running`` lost its
        worker: it is closed as interrupted."""
        with transaction(self._factory) as session:
            run = session.get(SyncRun, run_id) if run_id is not None else None
            if run is None:
                run = SyncRun(xero_connection_id=self._id, kind=kind)
                session.add(run)
            run.status, run.started_at = RunStatus.RUNNING, self._now()
            session.flush()
            self._close_dead_runs(session, run.id)
            return run.id

    def _close_dead_runs(self, session: Session, current: int) -> None:
        dead = session.scalars(
            select(SyncRun).where(
                SyncRun.xero_connection_id == self._id,
                SyncRun.status == RunStatus.RUNNING,
                SyncRun.id != current,
            )
        ).all()
        for run in dead:
            run.status = run_failures.INTERRUPTED
            run.error = run_failures.INTERRUPTED_CAUSE
            run.finished_at = self._now()
            self._event(
                session,
                "warning",
                "run_interrupted",
                f"Sync run {run.id} was interrupted: {run_failures.INTERRUPTED_CAUSE}.",
                "Nothing to do: nothing posts twice and nothing is lost.",
                run_id=run.id,
            )

    def _finish_run(self, run_id: int, report: SyncReport) -> None:
        with transaction(self._factory) as session:
            run = session.get_one(SyncRun, run_id)
            run.status = RunStatus.FAILED if report.error else RunStatus.OK
            run.counts = report.counts()
            run.progress = 100
            run.error = report.error
            run.finished_at = self._now()
            if not report.error:
                session.get_one(XeroConnection, self._id).last_sync_at = self._now()

    def _record_failure(self, run_id: int, problem: Exception) -> None:
        """The run's cause and remedy as an event; a subject failing runs in a row is set aside."""
        cause = run_failures.cause_of(problem)
        subject = self._subject if run_failures.blames_its_subject(problem) else None
        where = f" while working on {subject.label}" if subject else ""
        with transaction(self._factory) as session:
            data: dict[str, str | int] = {"run_id": run_id, "cause": cause}
            if subject is not None:
                data |= {"subject_kind": subject.kind, "subject": subject.key}
            self._event(
                session,
                "error",
                run_failures.RUN_FAILED,
                f"The sync failed{where}: {cause}",
                run_failures.remedy_for_failure(problem),
                **data,
            )
            if subject is not None:
                self._isolate(session, run_id, subject, cause)

    def _record_side_error(self, problem: SideError) -> None:
        with transaction(self._factory) as session:
            connection = session.get_one(XeroConnection, self._id)
            if isinstance(problem, ComeBackAt):
                connection.parked_until = problem.when
                self._event(
                    session,
                    "warning",
                    "xero_day_limit",
                    f"Xero's daily limit for this organisation is used up; posting resumes at "
                    f"{problem.when:%Y-%m-%d %H:%M} UTC.",
                    "Nothing to do: abxero carries on by itself.",
                )
            elif isinstance(problem, NeedsReconnect):
                self._event(
                    session,
                    "error",
                    f"{problem.side}_needs_reconnect",
                    problem.message,
                    f"Reconnect {'Xero' if problem.side == 'xero' else 'Amazon Business'} on the "
                    "manage page.",
                )
                if problem.side == "xero":
                    connection.status = ConnectionStatus.NEEDS_RECONNECT
            elif isinstance(problem, TryLater):
                self._event(
                    session,
                    "warning",
                    f"{problem.side}_unavailable",
                    problem.message,
                    "Nothing to do: the next sync tries again.",
                )
