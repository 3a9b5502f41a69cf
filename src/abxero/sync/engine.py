"""One sync of one organisation: fetch → store → plan → post → record (design §3).

The engine holds the organisation's lease for the whole run, so a queue that delivers a task
twice, or two workers, still run one sync. The lease is short and kept alive by a heartbeat;
the engine checks it before every batch it opens or sends, so a run that lost it stops there.
Every step commits its own small transaction, and each is safe to repeat after a crash at any
instruction:

* a fetched page and the bookmark that covers it commit together;
* a batch and the ``sending`` mark of its documents commit before the request goes out;
* Xero's answer for a batch commits in one transaction; a batch left ``sending`` is resent with
  the same Idempotency-Key inside the key's lifetime and reconciled against Xero after it.

Any exception ends the run as failed with its cause and a remedy (``run_failures.py``); only a
successful run moves ``last_sync_at``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.context import OrgContext
from abxero.store.db import transaction
from abxero.store.models import XeroConnection, utcnow
from abxero.sync import batches, context_reads, ledger, rollback, routing, run_failures
from abxero.sync.bookmarks import Bookmarks
from abxero.sync.invoice_details import DetailsHook
from abxero.sync.leases import DEFAULT_TTL, LeaseBusy, held, new_holder_id
from abxero.sync.pipeline import Ahead
from abxero.sync.planning import Planning
from abxero.sync.ports import AmazonFeed, SideError, XeroBooks
from abxero.sync.recovery import Recovery
from abxero.sync.report import Progress, SyncReport
from abxero.sync.runs import Runs, _log_failure
from abxero.sync.windows import WINDOW, windows

__all__ = ["Engine", "SyncReport"]

#: How often the poster looks again for full batches, and renews the lease, while it waits for
#: the thread fetching and planning ahead of it.
AHEAD_WAIT = 0.2
KEY_LIFETIME = timedelta(minutes=5)
LEASE_TTL = DEFAULT_TTL


class Engine(Runs, Recovery, Planning, Bookmarks):
    """Runs syncs and imports of one organisation against the two outside systems.

    Each job is its own part: ``Runs`` (runs.py), ``Recovery`` (recovery.py), ``Posting``
    (posting.py), ``Planning`` (planning.py), ``OrganisationContext`` (org_context.py) and
    ``Bookmarks`` (bookmarks.py); this class holds the steps of a run and their order.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        amazon: AmazonFeed,
        xero: XeroBooks,
        *,
        now: Callable[[], datetime] = utcnow,
        holder: str | None = None,
        key_lifetime: timedelta = KEY_LIFETIME,
        lease_ttl: timedelta = LEASE_TTL,
        progress: Progress | None = None,
        details: DetailsHook | None = None,
        context_max_age: timedelta = context_reads.CONTEXT_MAX_AGE,
    ) -> None:
        self._factory = factory
        self._id = connection_id
        self._amazon = amazon
        self._xero = xero
        self._now = now
        self._holder = holder or new_holder_id()
        self._key_lifetime = key_lifetime
        self._lease_ttl = lease_ttl
        self._on_progress = progress or (lambda report: None)
        self._run_id: int | None = None
        self._details = details
        self._local = threading.local()
        self._ledger_lock = threading.Lock()
        self._subject = None
        self._context_max_age = context_max_age
        self._used_stored_read = False

    def sync(self, run_id: int | None = None) -> SyncReport:
        """Read the feed from the bookmark (with overlap) to now, then plan and post."""
        return self._run("sync", self._incremental_windows, run_id)

    def import_range(self, start: datetime, end: datetime, run_id: int | None = None) -> SyncReport:
        """Read ``[start, end)`` again, then plan and post; nothing already posted repeats.
        Transactions a rollback took out of Xero in that range are posted again, once."""

        def import_windows() -> list[tuple[datetime, datetime]]:
            with transaction(self._factory) as session:
                rollback.release(session, self._id, start, end)
            return list(windows(start, end, WINDOW))

        return self._run("import", import_windows, run_id)

    def post_pending(self, run_id: int | None = None) -> SyncReport:
        """Plan and post what is stored, without reading Amazon."""
        return self._run("post", list, run_id)

    # -- the run ---------------------------------------------------------------------------

    def _run(
        self,
        kind: str,
        plan_windows: Callable[[], list[tuple[datetime, datetime]]],
        run_id: int | None,
    ) -> SyncReport:
        report = SyncReport(kind)
        lease = f"sync:{self._id}"
        with held(self._factory, lease, self._holder, self._lease_ttl, self._now) as renew:
            run_id = self._start_run(kind, run_id)
            self._run_id, self._subject = run_id, None
            try:
                self._steps(report, plan_windows(), renew)
            except SideError as problem:
                report.error = str(problem)
                self._record_side_error(problem)
            except Exception as problem:  # any failure ends the run as failed, never as ok
                report.error = run_failures.cause_of(problem)
                self._record_failure(run_id, problem)
                _log_failure(self._id, run_id, problem)
            except BaseException:
                report.error = "the run was interrupted before it finished"
                raise
            finally:
                self._finish_run(run_id, report)
        return report

    def _steps(
        self,
        report: SyncReport,
        feed_windows: list[tuple[datetime, datetime]],
        renew: Callable[[], None],
    ) -> None:
        connection = self._connection()
        with transaction(self._factory) as session:
            routing.pull_changes(session, self._id)  # records routed here that changed
        report.posting = self._may_post(connection)
        if report.posting:
            self._recover(report, renew)
        report.windows_total = len(feed_windows)
        if report.posting and feed_windows:
            context = self._pipelined(report, connection, feed_windows, renew)
        else:
            for start, end in feed_windows:
                self._fetch_window(report, start, end, renew)
            if not report.posting:
                return
            context = self._context(connection)
        if context is None:
            return
        self._fetch_details()
        self._plan(report, context)
        if self._used_stored_read and report.held:
            # A hold decided on a stored read is confirmed on a fresh one: the account, lock
            # date or currency may have been fixed in Xero since.
            context = self._fresh_context(context.contact_id)
            report.held = 0
            self._plan(report, context)
        self._settle_unapplied()
        self._post(report, renew)
        if self._used_stored_read and report.failures:
            # Xero refused documents planned on a stored read: read again and plan them anew,
            # so that what changed in Xero (an archived account, a lock date) holds them with
            # its reason and remedy, as a fresh read would have before posting.
            context = self._fresh_context(context.contact_id)
            self._replan_refused(report)
            self._plan(report, context)
            self._post(report, renew)

    # -- the pipeline: fetching and planning run ahead of posting ------------------------------

    def _pipelined(
        self,
        report: SyncReport,
        connection: XeroConnection,
        feed_windows: list[tuple[datetime, datetime]],
        renew: Callable[[], None],
    ) -> OrgContext | None:
        """Fetch, store and plan page by page in a second thread while this one posts full
        batches of what is already planned, so Xero's minute budget never waits for Amazon or
        the planner. Each side commits its own short transactions; the ledger stays the only
        hand-over, so a crash anywhere leaves what a sequential run would. What is left (the
        last part batches, held records, unapplied credit) the caller posts as before."""
        ahead = Ahead(self._stored_mapping())
        worker = threading.Thread(
            target=self._run_ahead,
            args=(report, feed_windows, ahead),
            name=f"abxero-ahead-{self._id}",
            daemon=True,
        )
        worker.start()
        try:
            context = self._context(connection)
            ahead.start_planning(context)
            if context is not None:
                self._post_while_ahead(report, ahead, renew)
            while worker.is_alive():
                worker.join(AHEAD_WAIT)
                renew()
        except LeaseBusy:
            ahead.stop()  # another worker holds the organisation now: stop at the next window
            worker.join()
            raise
        except Exception:
            ahead.start_planning(None)  # fetching still finishes, as a sequential run's would
            worker.join()
            raise
        except BaseException:
            ahead.stop()
            worker.join()
            raise
        if ahead.failure is not None:
            self._subject = ahead.failed_on
            raise ahead.failure
        return context

    def _run_ahead(
        self, report: SyncReport, feed_windows: list[tuple[datetime, datetime]], ahead: Ahead
    ) -> None:
        """The second thread: every window page by page, each page planned once stored."""
        after = 0

        def plan_stored() -> None:
            nonlocal after
            context = ahead.planning_context()
            if context is None or ahead.mapping is None:
                return
            self._fetch_details()
            after = self._plan_from(report, context, ahead.mapping, (ledger.NEW,), after)
            ahead.planned.set()

        try:
            for start, end in feed_windows:
                if ahead.stopped:
                    return
                self._fetch_window(report, start, end, plan_stored)
        except BaseException as problem:  # handed to the poster, which ends the run with it
            ahead.fail(problem, self._subject)
        finally:
            ahead.finish()

    def _post_while_ahead(
        self, report: SyncReport, ahead: Ahead, renew: Callable[[], None]
    ) -> None:
        """Send full batches of ready documents until fetching and planning are done; a part
        batch waits, as it may fill up (sending it now would cost an extra call)."""
        endpoints = (*batches.FIRST_PHASE, *batches.SECOND_PHASE)
        while not ahead.done.is_set():
            ahead.planned.clear()
            sent = False
            for endpoint in endpoints:
                sent = self._post_round(report, endpoint, renew, full_only=True) or sent
            if not sent:
                ahead.planned.wait(AHEAD_WAIT)
                renew()
